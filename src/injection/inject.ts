// Pod injection, pure: pod + actor + configuration in, JSON Patch out. The admission webhook
// (src/webhook/handlers.ts mutatePodHandler) and the offline `asya-webhook inject` command both call injectPod.
import type { DefaultedActor, EnvVar } from '../api/schema.js';
import type { OperatorConfig, TransportConfig } from '../config/schema.js';
import { pluginOf } from '../transports/registry.js';
import { findTransport } from '../config/load.js';
import {
  ACTOR_LABEL,
  END_ACTORS,
  ENV,
  ERROR_END_ACTOR,
  HAPPY_END_ACTOR,
  INJECTION_STATUS_ANNOTATION,
  RUNTIME_CONFIGMAP,
  RUNTIME_CONTAINER,
  RUNTIME_READY_FILE,
  RUNTIME_SCRIPT_KEY,
  RUNTIME_SCRIPT_PATH,
  RUNTIME_VOLUME,
  SIDECAR_CONTAINER,
  SOCKET_FILE_NAME,
  SOCKET_VOLUME,
  TMP_MOUNT_PATH,
  TMP_VOLUME,
  queueNameFor,
  runtimeCommandFor,
} from '../names.js';
import { PatchBuilder, pointer, type Operation } from './patchBuilder.js';
import { DENY_REASONS, SKIP_REASONS, type DenyReason, type SkipReason } from './reasons.js';

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: {
    containers?: Array<Record<string, unknown>>;
    initContainers?: Array<Record<string, unknown>>;
    volumes?: Array<Record<string, unknown>>;
    terminationGracePeriodSeconds?: number;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface InjectionInput {
  pod: Pod;
  /** Namespace of the admission request (a pod being created may not carry one yet). */
  namespace: string;
  /** The actor named by the pod's asya.sh/actor label, defaulted; undefined when there is none. */
  actor: DefaultedActor | undefined;
  config: OperatorConfig;
}

/** What was injected, recorded in the pod's asya.sh/injection-status annotation. */
export interface InjectionStatus {
  version: 1;
  actor: string;
  sidecar: { image: string; native: boolean };
  volumes: string[];
}

export type InjectionResult =
  | { outcome: 'injected'; patch: Operation[]; pod: Pod; status: InjectionStatus }
  | { outcome: 'skipped'; reason: SkipReason; message: string }
  | { outcome: 'denied'; reason: DenyReason; message: string };

export function podLabelActor(pod: Pod): string | undefined {
  const v = pod?.metadata?.labels?.[ACTOR_LABEL];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function skip(reason: SkipReason): InjectionResult {
  return { outcome: 'skipped', reason, message: SKIP_REASONS[reason] };
}
function deny(reason: DenyReason, detail: string): InjectionResult {
  return { outcome: 'denied', reason, message: `${DENY_REASONS[reason]}: ${detail}` };
}

export function socketDirOf(socketPath: string): string {
  return socketPath.slice(0, socketPath.lastIndexOf('/')) || '/';
}

export function injectPod(input: InjectionInput): InjectionResult {
  const { pod, namespace, actor, config } = input;
  if (!pod || typeof pod !== 'object' || Array.isArray(pod) || !pod.spec || typeof pod.spec !== 'object') {
    return deny('invalid_pod', 'expected an object with a spec');
  }
  if (config.webhook.excludedNamespaces.includes(namespace)) return skip('excluded_namespace');
  const actorName = podLabelActor(pod);
  if (!actorName) return skip('no_actor_label');

  const containers = Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  const initContainers = Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [];
  const runtimeIdx = containers.findIndex((c) => c?.name === RUNTIME_CONTAINER);
  const hasSidecar = [...containers, ...initContainers].some((c) => c?.name === SIDECAR_CONTAINER);
  const annotated = pod.metadata?.annotations?.[INJECTION_STATUS_ANNOTATION] !== undefined;

  if (!actor) {
    return deny('unknown_actor', `the pod's label ${ACTOR_LABEL}=${actorName} names no AsyncActor in namespace "${namespace}"; create the actor first, or remove the label`);
  }
  if (actor.metadata.deletionTimestamp) return deny('actor_terminating', `AsyncActor ${namespace}/${actorName} is being deleted`);
  if (runtimeIdx < 0) {
    return deny('no_runtime_container', `pods of actor ${namespace}/${actorName} need a container named "${RUNTIME_CONTAINER}" running the handler`);
  }
  if (hasSidecar && !annotated) {
    return deny('sidecar_conflict', `remove it; the sidecar is injected and configured by spec.sidecar of AsyncActor ${namespace}/${actorName}`);
  }
  const transport = findTransport(config, actor.spec.transport);
  if (!transport.ok) return deny('transport_not_configured', `${transport.message} (AsyncActor ${namespace}/${actorName})`);

  const spec = actor.spec;
  const socketDir = socketDirOf(spec.socket.path);
  // The file name is fixed by the sidecar and the runtime (validation refuses another one).
  const socketPath = `${socketDir === '/' ? '' : socketDir}/${SOCKET_FILE_NAME}`;
  const command = runtimeCommandFor(spec.workload.pythonExecutable);
  const runtime = containers[runtimeIdx]!;
  if (runtime.command !== undefined && !sameStrings(runtime.command, command)) {
    return deny('runtime_command_set', `remove command from container "${RUNTIME_CONTAINER}"; it becomes ${JSON.stringify(command)} (set spec.workload.pythonExecutable to change the interpreter)`);
  }

  const b = new PatchBuilder(pod);
  const native = config.sidecar.native;
  const sidecarImage = spec.sidecar?.image ?? config.sidecar.image;

  // Pod-level volumes first, so the mounts below refer to existing volumes.
  b.ensureNamed('/spec/volumes', { name: SOCKET_VOLUME, emptyDir: {} });
  b.ensureNamed('/spec/volumes', { name: TMP_VOLUME, emptyDir: {} });
  b.ensureNamed('/spec/volumes', { name: RUNTIME_VOLUME, configMap: { name: RUNTIME_CONFIGMAP, defaultMode: 0o755 } });

  // The runtime container.
  const rt = pointer('spec', 'containers', runtimeIdx);
  if (runtime.command === undefined) b.set(rt, 'command', command);
  b.upsertNamed(`${rt}/env`, { name: ENV.socketDir, value: socketDir });
  b.upsertNamed(`${rt}/env`, { name: ENV.socketPath, value: socketPath });
  if (END_ACTORS.includes(actorName)) b.upsertNamed(`${rt}/env`, { name: ENV.enableValidation, value: 'false' });
  b.ensureNamed(`${rt}/volumeMounts`, { name: SOCKET_VOLUME, mountPath: socketDir });
  // A writable /tmp, as upstream mounts it: Python and many libraries need one under a read-only root.
  b.ensureNamed(`${rt}/volumeMounts`, { name: TMP_VOLUME, mountPath: TMP_MOUNT_PATH });
  b.ensureNamed(`${rt}/volumeMounts`, { name: RUNTIME_VOLUME, mountPath: RUNTIME_SCRIPT_PATH, subPath: RUNTIME_SCRIPT_KEY, readOnly: true });
  for (const [field, probe] of Object.entries(runtimeProbes(socketPath, socketDir))) {
    if (runtime[field] === undefined) b.set(rt, field, probe);
  }

  // The sidecar.
  if (!hasSidecar) {
    const sidecar: Record<string, unknown> & { name: string } = {
      name: SIDECAR_CONTAINER,
      image: sidecarImage,
      imagePullPolicy: spec.sidecar?.imagePullPolicy ?? config.sidecar.imagePullPolicy,
      env: sidecarEnv(actorName, namespace, actor, transport.transport, config),
      resources: spec.sidecar?.resources ?? config.sidecar.defaultResources,
      volumeMounts: [
        { name: SOCKET_VOLUME, mountPath: socketDir },
        { name: TMP_VOLUME, mountPath: TMP_MOUNT_PATH },
      ],
      terminationMessagePolicy: 'FallbackToLogsOnError',
    };
    if (native) {
      // Native sidecar (Kubernetes 1.29+): starts after the user's init containers, stops after the runtime.
      sidecar.restartPolicy = 'Always';
      b.append('/spec/initContainers', sidecar);
    } else {
      b.append('/spec/containers', sidecar);
    }
  }

  b.set('/spec', 'terminationGracePeriodSeconds', spec.timeout.gracefulShutdown);

  const status: InjectionStatus = {
    version: 1,
    actor: actorName,
    sidecar: { image: sidecarImage, native },
    volumes: [SOCKET_VOLUME, TMP_VOLUME, RUNTIME_VOLUME],
  };
  if (!annotated) b.set('/metadata/annotations', INJECTION_STATUS_ANNOTATION, JSON.stringify(status));

  if (b.ops.length === 0) return skip('already_injected');
  return { outcome: 'injected', patch: b.ops, pod: b.doc, status };
}

function sameStrings(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}

function runtimeProbes(socketPath: string, socketDir: string): Record<string, Record<string, unknown>> {
  const exec = { command: ['sh', '-c', `test -S ${shellQuote(socketPath)} && test -f ${shellQuote(`${socketDir}/${RUNTIME_READY_FILE}`)}`] };
  return {
    startupProbe: { exec, initialDelaySeconds: 3, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 150 },
    livenessProbe: { exec, initialDelaySeconds: 0, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: { exec, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
  };
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The sidecar's environment, as upstream's sidecar reads it (internal/config/config.go): the injected variables,
 * then spec.sidecar.env overriding by name. The sidecar derives its socket (`$ASYA_SOCKET_DIR/asya-runtime.sock`)
 * and its queue (`asya-$ASYA_ACTOR_NAME`) itself.
 */
export function sidecarEnv(actorName: string, namespace: string, actor: DefaultedActor, transport: TransportConfig, config: OperatorConfig): EnvVar[] {
  const spec = actor.spec;
  const env: EnvVar[] = [
    { name: ENV.logLevel, value: config.sidecar.logLevel },
    { name: ENV.socketDir, value: socketDirOf(spec.socket.path) },
    { name: ENV.actorName, value: actorName },
    { name: ENV.namespace, value: namespace },
    { name: ENV.transport, value: transport.type },
    { name: ENV.queueName, value: queueNameFor(actorName) },
    // A Go duration; validation keeps it at 1s or more (0s would fail every message).
    { name: ENV.runtimeTimeout, value: `${spec.timeout.processing}s` },
    ...(config.gatewayURL ? [{ name: ENV.gatewayUrl, value: config.gatewayURL }] : []),
    { name: ENV.happyEnd, value: HAPPY_END_ACTOR },
    { name: ENV.errorEnd, value: ERROR_END_ACTOR },
    ...(END_ACTORS.includes(actorName) ? [{ name: ENV.isEndActor, value: 'true' }] : []),
    ...pluginOf(transport).sidecarEnv(transport.config),
  ];
  for (const user of spec.sidecar?.env ?? []) {
    const i = env.findIndex((e) => e.name === user.name);
    if (i >= 0) env[i] = user;
    else env.push(user);
  }
  const plugin = pluginOf(transport);
  return plugin.finishSidecarEnv ? plugin.finishSidecarEnv(transport.config, env) : env;
}
