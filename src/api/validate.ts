// Validation and defaulting of AsyncActors (pure). The schema part comes from schema.ts; the rules below are
// what a schema cannot say (REFERENCE §1 "Validation rules" plus ours). Every violation is reported at once,
// each with its field path.
import { Type } from '@sinclair/typebox';
import { parseQuantity } from '../util/quantity.js';
import type { ErrorObject } from 'ajv';
import { PodSpec } from 'kubernetes-models/v1/PodSpec';
import { SchemaChecker, fieldErrors, type FieldError } from '../util/schemaChecker.js';
import { CLAIM_TEMPLATE_KINDS, workloadKindOf } from '../workloads/index.js';
import { AsyncActorSpecSchema, TimeoutSpecSchema, type AsyncActor, type DefaultedActor } from './schema.js';
import type { OperatorConfig } from '../config/schema.js';
import { findTransport } from '../config/load.js';
import { pluginOf } from '../transports/registry.js';
import {
  RESERVED_RUNTIME_ENV,
  RESERVED_VOLUMES,
  RUNTIME_CONTAINER,
  RUNTIME_SCRIPT_PATH,
  SIDECAR_CONTAINER,
  SOCKET_FILE_NAME,
  TMP_MOUNT_PATH,
  runtimeCommandFor,
  queueNameFor,
  ACTOR_API_VERSION,
  ACTOR_KIND,
} from '../names.js';

export type { FieldError } from '../util/schemaChecker.js';

const ActorDocSchema = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
  spec: AsyncActorSpecSchema,
  status: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true })),
});
const actorChecker = new SchemaChecker<DefaultedActor>(ActorDocSchema, { closeObjects: true });

/** Other actors that share the cluster, for the queue-collision rule. */
export interface ActorLookup {
  /** Actors, in any namespace, whose queue on `transport` is `queueName`. */
  actorsWithQueue(transport: string, queueName: string): Iterable<{ namespace: string; name: string }>;
}

export interface ValidationContext {
  config: OperatorConfig;
  actors?: ActorLookup;
  /** The stored object on UPDATE. */
  oldActor?: AsyncActor;
}

export interface ValidationResult {
  errors: FieldError[];
  warnings: string[];
  /** The actor with defaults applied (also when invalid, as far as it could be). */
  actor: DefaultedActor;
}

/**
 * `workload.type` is the seeds' older spelling of `workload.kind`. Returns the converted spec fields and a
 * warning, or an error when both are set and disagree. The API server may already have defaulted `kind`
 * to Deployment, so only a non-default `kind` can disagree with `type`.
 */
export function convertWorkloadType(actor: AsyncActor): { warnings: string[]; errors: FieldError[] } {
  const workload = actor.spec?.workload as Record<string, unknown> | undefined;
  if (!workload || workload.type === undefined) return { warnings: [], errors: [] };
  const type = workload.type;
  if (workload.kind !== undefined && workload.kind !== 'Deployment' && workload.kind !== type) {
    return { warnings: [], errors: [{ path: 'spec.workload.type', message: `conflicts with spec.workload.kind "${String(workload.kind)}"; remove the deprecated type` }] };
  }
  workload.kind = type;
  delete workload.type;
  return {
    warnings: [`spec.workload.type is deprecated: converted to spec.workload.kind: ${String(type)}; write kind in your manifest`],
    errors: [],
  };
}

/** Applies the schema defaults to a copy of the actor and checks it. Pure. */
export function validateActor(input: AsyncActor, ctx: ValidationContext): ValidationResult {
  const actor = structuredClone(input ?? {}) as DefaultedActor;
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  if (!actor || typeof actor !== 'object' || Array.isArray(actor)) {
    return { errors: [{ path: '', message: 'must be an object' }], warnings, actor };
  }
  if (actor.apiVersion !== undefined && actor.apiVersion !== ACTOR_API_VERSION) errors.push({ path: 'apiVersion', message: `must be ${ACTOR_API_VERSION}` });
  if (actor.kind !== undefined && actor.kind !== ACTOR_KIND) errors.push({ path: 'kind', message: `must be ${ACTOR_KIND}` });

  const conv = convertWorkloadType(actor);
  warnings.push(...conv.warnings);
  errors.push(...conv.errors);

  const schema = actorChecker.check(actor);
  if (!schema.ok) errors.push(...schema.errors);
  errors.push(...checkMetadata(actor));
  if (actor.spec && typeof actor.spec === 'object') {
    errors.push(...checkTemplate(actor));
    errors.push(...checkSocket(actor, ctx.oldActor, warnings));
    checkTimeouts(actor, warnings);
    errors.push(...checkScaling(actor));
    errors.push(...checkSidecar(actor));
    errors.push(...checkWorkload(actor));
    errors.push(...checkTransport(actor, ctx));
    errors.push(...checkUpdate(actor, ctx.oldActor));
  }
  return { errors: dedupe(errors), warnings, actor };
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(`${e.path}|${e.message}`) && (seen.add(`${e.path}|${e.message}`), true));
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkMetadata(actor: DefaultedActor): FieldError[] {
  const name = actor.metadata?.name;
  const errors: FieldError[] = [];
  if (typeof name !== 'string' || name === '') {
    // generateName is useless for an actor: its name is its queue's name.
    errors.push({ path: 'metadata.name', message: 'is required (the actor name names its queue; generateName is not supported)' });
    return errors;
  }
  // The name is the value of the asya.sh/actor label on every pod: a label value is at most 63 characters.
  if (name.length > 63 || !DNS1123_LABEL.test(name)) {
    errors.push({ path: 'metadata.name', message: 'must be a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters) since it is used as a label value' });
  } else if (actor.spec?.scaling?.enabled && name.length > 54) {
    errors.push({ path: 'metadata.name', message: 'must be at most 54 characters when scaling is enabled (KEDA names its HPA keda-hpa-<name>, at most 63)' });
  }
  return errors;
}

interface ContainerLike {
  name?: unknown;
  image?: unknown;
  command?: unknown;
  env?: unknown;
  volumeMounts?: unknown;
}

function asArray(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/**
 * The pod template against the real PodSpec schema (kubernetes-models, generated from Kubernetes' OpenAPI):
 * `template.spec` is free-form in the CRD, so an `env` given as an object would otherwise be stored and then
 * fail in every write of the workload.
 */
function checkPodSpecShape(podSpec: Record<string, unknown>, base: string): FieldError[] {
  try {
    new PodSpec(podSpec as unknown as ConstructorParameters<typeof PodSpec>[0]).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: ErrorObject[] }).errors;
    if (!Array.isArray(errors)) return [{ path: base, message: `is not a valid pod spec: ${(err as Error).message}` }];
    return fieldErrors(errors, base);
  }
}

function checkTemplate(actor: DefaultedActor): FieldError[] {
  const errors: FieldError[] = [];
  const base = 'spec.workload.template.spec';
  const podSpec = actor.spec.workload?.template?.spec as Record<string, unknown> | undefined;
  if (!podSpec || typeof podSpec !== 'object') return errors;
  errors.push(...checkPodSpecShape(podSpec, base));

  const containers = asArray(podSpec.containers);
  if (!containers || containers.length === 0) {
    errors.push({ path: `${base}.containers`, message: `must contain a container named "${RUNTIME_CONTAINER}"` });
  }
  const initContainers = asArray(podSpec.initContainers) ?? [];
  const names = new Map<string, string>();
  const check = (list: unknown[], field: 'containers' | 'initContainers') => {
    list.forEach((raw, i) => {
      const path = `${base}.${field}[${i}]`;
      if (!raw || typeof raw !== 'object') {
        errors.push({ path, message: 'must be an object' });
        return;
      }
      const c = raw as ContainerLike;
      if (typeof c.name !== 'string' || c.name === '') errors.push({ path: `${path}.name`, message: 'is required' });
      else {
        if (names.has(c.name)) errors.push({ path: `${path}.name`, message: `duplicate container name "${c.name}" (also ${names.get(c.name)})` });
        names.set(c.name, path);
        if (c.name === SIDECAR_CONTAINER) {
          errors.push({ path: `${path}.name`, message: `"${SIDECAR_CONTAINER}" is reserved: the sidecar is injected; configure it with spec.sidecar` });
        }
      }
      if (typeof c.image !== 'string' || c.image === '') errors.push({ path: `${path}.image`, message: 'is required' });
      const env = asArray(c.env) ?? [];
      env.forEach((e, j) => {
        const n = (e as { name?: unknown })?.name;
        if (c.name === RUNTIME_CONTAINER && typeof n === 'string' && RESERVED_RUNTIME_ENV.includes(n)) {
          errors.push({ path: `${path}.env[${j}].name`, message: `"${n}" is set by the injection; use spec.socket instead` });
        }
      });
      const mounts = asArray(c.volumeMounts) ?? [];
      mounts.forEach((m, j) => {
        const mp = (m as { mountPath?: unknown })?.mountPath;
        if (typeof mp === 'string' && reservedMountPaths(actor).includes(mp.replace(/\/+$/, ''))) {
          errors.push({ path: `${path}.volumeMounts[${j}].mountPath`, message: `"${mp}" is reserved for the injected volumes` });
        }
      });
    });
  };
  check(containers ?? [], 'containers');
  check(initContainers, 'initContainers');

  const runtimeIdx = (containers ?? []).map((c) => (c as ContainerLike)?.name).flatMap((n, i) => (n === RUNTIME_CONTAINER ? [i] : []));
  if (containers && containers.length > 0 && runtimeIdx.length === 0) {
    errors.push({ path: `${base}.containers`, message: `must contain a container named "${RUNTIME_CONTAINER}"` });
  }
  for (const i of runtimeIdx) {
    const c = containers?.[i] as ContainerLike;
    if (c.command !== undefined) {
      errors.push({
        path: `${base}.containers[${i}].command`,
        message: `must not be set: the command of ${RUNTIME_CONTAINER} is [${runtimeCommandFor(actor.spec.workload.pythonExecutable).join(', ')}] (set spec.workload.pythonExecutable to change the interpreter)`,
      });
    }
  }

  (asArray(podSpec.volumes) ?? []).forEach((v, i) => {
    const n = (v as { name?: unknown })?.name;
    if (typeof n === 'string' && (RESERVED_VOLUMES as readonly string[]).includes(n)) {
      errors.push({ path: `${base}.volumes[${i}].name`, message: `"${n}" is reserved for the injected volumes` });
    }
  });
  return errors;
}

function reservedMountPaths(actor: DefaultedActor): string[] {
  const socketPath = actor.spec.socket?.path ?? '';
  const socketDir = socketPath.slice(0, socketPath.lastIndexOf('/')) || '/';
  return [socketDir, TMP_MOUNT_PATH, RUNTIME_SCRIPT_PATH, '/opt/asya'];
}

/** Socket directories that would collide with another injected mount, or cannot be mounted at all. */
const FORBIDDEN_SOCKET_DIRS = ['/', TMP_MOUNT_PATH, '/opt/asya'];

/**
 * What the sidecar and runtime can honour of spec.socket (REFERENCE "What the real sidecar and runtime need"):
 * both use <dir>/asya-runtime.sock, so another file name would leave the probes waiting for a file that never
 * appears; and nothing reads maxSize. maxSize is ratcheted: an update that keeps the stored value passes (the CRD
 * used to default it), with a warning.
 */
function checkSocket(actor: DefaultedActor, old: AsyncActor | undefined, warnings: string[]): FieldError[] {
  const socket = actor.spec.socket;
  const errors: FieldError[] = [];
  if (!socket || typeof socket !== 'object') return errors;
  const path = socket.path;
  if (typeof path === 'string' && path.startsWith('/')) {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash) || '/';
    const dirAllowed = !FORBIDDEN_SOCKET_DIRS.includes(dir) && !dir.startsWith(`${TMP_MOUNT_PATH}/`);
    if (path.slice(slash + 1) !== SOCKET_FILE_NAME) {
      errors.push({
        path: 'spec.socket.path',
        message: `must end in /${SOCKET_FILE_NAME}: the sidecar and the runtime use that file name in the socket directory and cannot use another; use ${dirAllowed ? dir : '/var/run/asya'}/${SOCKET_FILE_NAME}`,
      });
    }
    if (FORBIDDEN_SOCKET_DIRS.includes(dir)) {
      errors.push({ path: 'spec.socket.path', message: `must not be directly in ${dir}: the socket directory is a volume of its own (choose for example /var/run/asya/${SOCKET_FILE_NAME})` });
    } else if (dir.startsWith(`${TMP_MOUNT_PATH}/`)) {
      // Nested in the injected /tmp volume, the socket volume depends on mount order in both containers.
      errors.push({ path: 'spec.socket.path', message: `must not be under ${TMP_MOUNT_PATH}: an emptyDir is mounted there in both containers (choose for example /var/run/asya/${SOCKET_FILE_NAME})` });
    }
  }
  if (socket.maxSize !== undefined) {
    if (old?.spec?.socket?.maxSize === socket.maxSize) {
      warnings.push('spec.socket.maxSize has no effect: neither the sidecar nor the runtime limits the message size; remove it');
    } else {
      errors.push({ path: 'spec.socket.maxSize', message: 'is not supported: neither the sidecar nor the runtime limits the size of a message; remove it' });
    }
  }
  return errors;
}

const DEFAULT_TIMEOUTS = {
  processing: TimeoutSpecSchema.properties.processing.default as number,
  gracefulShutdown: TimeoutSpecSchema.properties.gracefulShutdown.default as number,
};

/**
 * A stopping pod gets gracefulShutdown seconds; a message may take processing seconds. Warned about when the
 * user chose the values: the defaults (upstream's 300 s and 30 s) would otherwise warn on every actor, and the
 * API server fills them in before we see the actor, so "left at the defaults" is all that can be told apart.
 */
function checkTimeouts(actor: DefaultedActor, warnings: string[]): void {
  const t = actor.spec.timeout;
  if (!t || typeof t.processing !== 'number' || typeof t.gracefulShutdown !== 'number') return;
  const defaults = t.processing === DEFAULT_TIMEOUTS.processing && t.gracefulShutdown === DEFAULT_TIMEOUTS.gracefulShutdown;
  if (t.gracefulShutdown < t.processing && !defaults) {
    warnings.push(
      `spec.timeout.gracefulShutdown (${t.gracefulShutdown}s) is shorter than spec.timeout.processing (${t.processing}s): a pod stopped by a scale-down is killed before a long message finishes, and that message is processed again elsewhere`,
    );
  }
}

function checkScaling(actor: DefaultedActor): FieldError[] {
  const s = actor.spec.scaling;
  const errors: FieldError[] = [];
  if (!s || typeof s !== 'object') return errors;
  if (typeof s.minReplicas === 'number' && typeof s.maxReplicas === 'number' && s.minReplicas > s.maxReplicas) {
    errors.push({ path: 'spec.scaling.minReplicas', message: `must be <= spec.scaling.maxReplicas (${s.maxReplicas})` });
  }
  const adv = s.advanced;
  if (adv && adv.formula !== undefined && adv.target === undefined) {
    errors.push({ path: 'spec.scaling.advanced.target', message: 'is required when spec.scaling.advanced.formula is set' });
  }
  return errors;
}

function checkWorkload(actor: DefaultedActor): FieldError[] {
  const w = actor.spec.workload;
  if (!w || typeof w !== 'object') return [];
  const module = workloadKindOf(w.kind);
  const errors: FieldError[] = [];
  if (w.volumeClaimTemplates !== undefined && !module?.claimTemplates) {
    errors.push({ path: 'spec.workload.volumeClaimTemplates', message: `is only allowed with kind ${CLAIM_TEMPLATE_KINDS.join(' or ')} (kind is ${String(w.kind)})` });
  }
  return [...errors, ...(module?.validate(actor) ?? [])];
}

/** Sidecar resources the API server would refuse in every pod (a limit below its request). */
function checkSidecar(actor: DefaultedActor): FieldError[] {
  const r = actor.spec.sidecar?.resources;
  const errors: FieldError[] = [];
  if (!r || typeof r !== 'object' || !r.limits || !r.requests) return errors;
  for (const [resource, limit] of Object.entries(r.limits)) {
    const request = r.requests[resource];
    if (request === undefined) continue;
    const l = parseQuantity(limit);
    const q = parseQuantity(request);
    if (l !== undefined && q !== undefined && q > l) {
      errors.push({ path: `spec.sidecar.resources.requests.${resource}`, message: `must be less than or equal to the ${resource} limit (${String(limit)}): the API server refuses such a pod` });
    }
  }
  return errors;
}

function checkTransport(actor: DefaultedActor, ctx: ValidationContext): FieldError[] {
  const name = actor.spec.transport;
  if (typeof name !== 'string' || name === '') return [];
  const found = findTransport(ctx.config, name);
  if (!found.ok) return [{ path: 'spec.transport', message: found.message }];
  const actorName = actor.metadata?.name;
  if (typeof actorName !== 'string' || actorName === '') return [];
  const queue = queueNameFor(actorName);
  const errors: FieldError[] = pluginOf(found.transport).validateActor(found.transport.config, { actor, queue });
  if (ctx.actors) {
    const ns = actor.metadata.namespace;
    for (const other of ctx.actors.actorsWithQueue(name, queue)) {
      if (other.namespace !== ns) {
        errors.push({
          path: 'metadata.name',
          message: `queue "${queue}" on transport "${name}" is already used by actor ${other.namespace}/${other.name}; queue names do not include the namespace, choose another name`,
        });
        break;
      }
    }
  }
  return errors;
}

function checkUpdate(actor: DefaultedActor, old: AsyncActor | undefined): FieldError[] {
  if (!old?.spec) return [];
  if (old.spec.transport !== actor.spec.transport) {
    return [{ path: 'spec.transport', message: `is immutable (was "${old.spec.transport}"); delete and recreate the actor to move it to another transport` }];
  }
  return [];
}

/** The actor with the schema's defaults applied, without the checks (for actors already admitted). Pure. */
export function defaultActor(input: AsyncActor): DefaultedActor {
  const actor = structuredClone(input) as DefaultedActor;
  convertWorkloadType(actor);
  actorChecker.check(actor);
  return actor;
}
