// The two operators the side-by-side benchmarks run on a fresh control plane, each as its own installation
// would, on this machine's loopback:
//   ours:     the built `asya-webhook serve` (webhook) and `asya-webhook controller` (reconciler), each with the
//             chart's ServiceAccount, RBAC and ValidatingAdmissionPolicy (charts/asya-operator rendered by helm)
//             and a token kubeconfig; the chart's webhook configurations registered by URL; our CRD (buildCrd).
//   upstream: upstream Asya's Go operator (scripts/bench-upstream-operator.sh), ServiceAccount bound to
//             cluster-admin, ASYA_TRANSPORT_CONFIG as its helm chart renders it; upstream's own CRD.
// Leader election is off on both (upstream's default; ours would renew a Lease, a write every few seconds).
// Each ServiceAccount gets FlowSchemas per verb (measure.ts), so that its API requests are counted.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { buildCrd } from '../../../src/api/crd.js';
import { generateCertificates } from '../../../src/certs/generate.js';
import type { ControlPlane } from '../../../test/e2e/support/controlPlane.js';
import { hostArgs } from '../../../test/e2e/support/helm.js';
import { planFromDockerfile } from '../../../test/e2e/support/operatorImage.js';
import { freePort } from '../../../test/support/ports.js';
import { parseQuantity } from '../../../src/util/quantity.js';
import { memoryCgroup, type MemoryCgroup } from './cgroup.js';
import { Api, CLI, REPO, flowSchemas, kubectlApply, promMetrics, serviceAccountKubeconfig, waitHttpOk } from './measure.js';

export type Side = 'ours' | 'upstream';
export const SYSTEM_NS = 'asya-system';
export const RELEASE = 'bench';
export const RABBIT_SECRET = 'rabbitmq-secret';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Port of its Prometheus /metrics. */
  metricsPort: number;
  /** Its container's memory limit, when run as in its container (OursOptions.asContainers). */
  cgroup?: MemoryCgroup;
}

export interface Operator {
  side: Side;
  procs: Proc[];
  /** FlowSchema prefixes of its ServiceAccounts, by process name. */
  flowPrefixes: Record<string, string>;
  /** Ours: the webhook's serving port and CA bundle (base64). */
  webhook?: { port: number; caBundle: string };
  /** Actors reconciled at once. */
  concurrency: number;
  /** V8 heap used (ours, from prom-client) or Go heap in use (upstream), MB, by process name. */
  heapMB(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    const gone = new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  p.cgroup?.remove();
}

/** The environment of the operator's image (the Dockerfile's ENV), e.g. NODE_OPTIONS sizing the heap to the container. */
function imageEnv(): Record<string, string> {
  const env = planFromDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).config.Env ?? [];
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** A memory cgroup with the container's memory limit from the chart, or undefined (no limit, or no controller here). */
function containerCgroup(name: string, container: { resources?: { limits?: { memory?: string } } }): MemoryCgroup | undefined {
  const limit = parseQuantity(container.resources?.limits?.memory ?? '');
  if (limit === undefined) return undefined;
  const cg = memoryCgroup(name, limit);
  if (!cg) console.log(`  (${name}: no writable memory cgroup controller here: not confined to ${container.resources?.limits?.memory})`);
  return cg;
}

function spawnLogged(name: string, dir: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, metricsPort: number, cgroup?: MemoryCgroup): Proc {
  const logFile = join(dir, `${name}.log`);
  const log = createWriteStream(logFile);
  const run = cgroup ? cgroup.wrap(cmd, args) : { cmd, args };
  const child = spawn(run.cmd, run.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  track(child);
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  return { name, child, pid: child.pid, logFile, metricsPort, ...(cgroup ? { cgroup } : {}) };
}
const alive = (p: Proc) => () => p.child.exitCode === null && p.child.signalCode === null;
function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

export function upstreamBinary(): string {
  return execFileSync('bash', [join(REPO, 'scripts', 'bench-upstream-operator.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

/** Each side's own CRD, Established. */
export async function installCrd(cp: ControlPlane, side: Side, upstreamBin?: string): Promise<void> {
  const crd = side === 'ours' ? stringify(buildCrd()) : readFileSync(join(upstreamBin!, '..', 'asyncactors-crd.yaml'), 'utf8');
  const r = await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: crd });
  if (r.code !== 0) throw new Error(`CRD: ${r.stderr}`);
  const w = await cp.kubectl(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=60s']);
  if (w.code !== 0) throw new Error(`CRD not Established: ${w.stderr}`);
}

/** The namespace of the actors, with the broker Secret both operators (and KEDA) read. */
export async function actorNamespace(cp: ControlPlane, ns: string): Promise<void> {
  await kubectlApply(cp, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: RABBIT_SECRET, namespace: ns }, stringData: { username: 'guest', password: 'guest' } },
  ]);
}

function helmTemplate(binDir: string, set: Record<string, string | boolean>): any[] {
  const args = ['template', RELEASE, join(REPO, 'charts', 'asya-operator'), '--namespace', SYSTEM_NS, '--kube-version', '1.37.2'];
  for (const [k, v] of Object.entries(set)) args.push(typeof v === 'string' ? '--set-string' : '--set', `${k}=${String(v)}`);
  const out = execFileSync(join(binDir, 'helm'), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object');
}

export interface OursOptions {
  ns: string;
  rabbitPort: number;
  /** Default: the chart's. */
  concurrency?: number;
  resyncSeconds: number;
  /** Extra node flags for both processes (e.g. --max-old-space-size=192, --cpu-prof). */
  nodeFlags?: string[];
  /** Register the chart's webhook configurations (default true). */
  registerWebhooks?: boolean;
  /**
   * Each process as in its container: the chart's memory limit enforced by a cgroup, and the image's
   * environment (the Dockerfile's ENV: NODE_OPTIONS sizes the heap from that limit).
   */
  asContainers?: boolean;
}

export async function startOurs(cp: ControlPlane, dir: string, o: OursOptions): Promise<Operator> {
  const chart = helmTemplate(cp.binDir, { 'certManager.enabled': false });
  const byKind = (k: string) => chart.filter((x) => x.kind === k);
  await kubectlApply(cp, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NS } }]);
  await kubectlApply(
    cp,
    ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].flatMap(byKind),
  );
  const pod = (component: string) => byKind('Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component).spec.template.spec;
  const webhookPod = pod('webhook');
  const reconcilerPod = pod('reconciler');
  const flowPrefixes = { webhook: 'bench-webhook', reconciler: 'bench-reconciler' };
  await kubectlApply(cp, [
    ...flowSchemas(flowPrefixes.webhook, SYSTEM_NS, webhookPod.serviceAccountName, 500),
    ...flowSchemas(flowPrefixes.reconciler, SYSTEM_NS, reconcilerPod.serviceAccountName, 520),
  ]);

  // The chart's configuration with this machine's broker and a short resync period.
  const config = parse(byKind('ConfigMap').find((c) => c.data?.['config.yaml']).data['config.yaml']);
  writeFileSync(join(dir, 'password'), 'guest');
  writeFileSync(join(dir, 'asya_runtime.py'), 'print("runtime")\n');
  config.transports = {
    rabbitmq: {
      type: 'rabbitmq',
      enabled: true,
      config: { host: '127.0.0.1', port: o.rabbitPort, username: 'guest', passwordFile: join(dir, 'password'), passwordSecretRef: { name: RABBIT_SECRET, key: 'password' } },
    },
  };
  config.runtime = { scriptPath: join(dir, 'asya_runtime.py') };
  config.reconciler = { ...config.reconciler, concurrency: o.concurrency ?? config.reconciler.concurrency, resyncPeriodSeconds: o.resyncSeconds, leaderElection: { ...config.reconciler.leaderElection, enabled: false } };
  writeFileSync(join(dir, 'config.yaml'), stringify(config));

  const certs = generateCertificates({ hosts: ['127.0.0.1'] });
  writeFileSync(join(dir, 'tls.crt'), certs.cert);
  writeFileSync(join(dir, 'tls.key'), certs.key);
  const [port, whMetrics, recHealth, recMetrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const flags = o.nodeFlags ?? [];
  const env = { ...process.env, ...(o.asContainers ? imageEnv() : {}) };
  const webhook = spawnLogged(
    'webhook',
    dir,
    process.execPath,
    [
      ...flags,
      CLI,
      ...hostArgs(webhookPod.containers[0].args as string[], { '--config': join(dir, 'config.yaml'), '--cert-dir': dir, '--port': port, '--health-port': whMetrics, '--metrics-port': whMetrics }),
      '--shutdown-delay=0',
      `--kubeconfig=${await serviceAccountKubeconfig(cp, dir, SYSTEM_NS, webhookPod.serviceAccountName)}`,
    ],
    env,
    whMetrics,
    o.asContainers ? containerCgroup('webhook', webhookPod.containers[0]) : undefined,
  );
  const procs = [webhook];
  const op: Operator = {
    side: 'ours',
    procs,
    flowPrefixes,
    webhook: { port, caBundle: Buffer.from(certs.caCert).toString('base64') },
    concurrency: config.reconciler.concurrency,
    async heapMB() {
      const out: Record<string, number> = {};
      for (const p of procs) if (alive(p)()) out[p.name] = ((await promMetrics(p.metricsPort)).get('nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20;
      return out;
    },
    async stop() {
      for (const p of [...procs].reverse()) await stopProc(p);
    },
  };
  try {
    await waitHttpOk(`http://127.0.0.1:${whMetrics}/readyz`, 60_000, alive(webhook)).catch((e: Error) => {
      throw new Error(`${e.message}\n${tail(webhook.logFile)}`);
    });
    if (o.registerWebhooks !== false) {
      const withUrl = helmTemplate(cp.binDir, { 'certManager.enabled': false, 'webhook.url': `https://127.0.0.1:${port}`, 'webhook.caBundle': Buffer.from(certs.caCert).toString('base64') });
      await kubectlApply(
        cp,
        withUrl.filter((x) => x.kind === 'MutatingWebhookConfiguration' || x.kind === 'ValidatingWebhookConfiguration'),
      );
    }
    const reconciler = spawnLogged(
      'reconciler',
      dir,
      process.execPath,
      [
        ...flags,
        CLI,
        ...hostArgs(reconcilerPod.containers[0].args as string[], { '--config': join(dir, 'config.yaml'), '--health-port': recHealth, '--metrics-port': recMetrics }),
        `--kubeconfig=${await serviceAccountKubeconfig(cp, dir, SYSTEM_NS, reconcilerPod.serviceAccountName)}`,
      ],
      { ...env, POD_NAME: `${RELEASE}-reconciler-bench`, POD_NAMESPACE: SYSTEM_NS },
      recMetrics,
      o.asContainers ? containerCgroup('reconciler', reconcilerPod.containers[0]) : undefined,
    );
    procs.push(reconciler);
    await waitHttpOk(`http://127.0.0.1:${recHealth}/readyz`, 60_000, alive(reconciler)).catch((e: Error) => {
      throw new Error(`${e.message}\n${tail(reconciler.logFile)}`);
    });
  } catch (err) {
    await op.stop();
    throw err;
  }
  return op;
}

export interface UpstreamOptions {
  ns: string;
  rabbitPort: number;
  binary: string;
  /** MaxConcurrentReconciles (upstream's default 10). */
  concurrency: number;
}

export async function startUpstream(cp: ControlPlane, dir: string, o: UpstreamOptions): Promise<Operator> {
  const sa = 'asya-operator';
  const flowPrefixes = { operator: 'bench-upstream' };
  await kubectlApply(cp, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: SYSTEM_NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'bench-upstream-operator' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: SYSTEM_NS }],
    },
    ...flowSchemas(flowPrefixes.operator, SYSTEM_NS, sa, 500),
  ]);
  writeFileSync(join(dir, 'asya_runtime.py'), 'print("runtime")\n');
  const [metricsPort, probePort] = [await freePort(), await freePort()];
  // As upstream's helm chart renders ASYA_TRANSPORT_CONFIG for a RabbitMQ transport with the password in a Secret;
  // the exchange is named as ours declares it, so that both declare an exchange and bind each queue.
  const transportConfig = {
    transports: {
      rabbitmq: { type: 'rabbitmq', enabled: true, config: { host: '127.0.0.1', port: o.rabbitPort, username: 'guest', passwordSecretRef: { name: RABBIT_SECRET, key: 'password' }, exchange: 'asya' } },
    },
  };
  const p = spawnLogged(
    'operator',
    dir,
    o.binary,
    [`--metrics-bind-address=127.0.0.1:${metricsPort}`, `--health-probe-bind-address=127.0.0.1:${probePort}`, `--max-concurrent-reconciles=${o.concurrency}`],
    {
      ...process.env,
      KUBECONFIG: await serviceAccountKubeconfig(cp, dir, SYSTEM_NS, sa),
      ASYA_TRANSPORT_CONFIG: JSON.stringify(transportConfig),
      ASYA_RUNTIME_SCRIPT_PATH: join(dir, 'asya_runtime.py'),
      ASYA_RUNTIME_NAMESPACE: o.ns,
      ASYA_SIDECAR_IMAGE: 'asya-sidecar:latest',
    },
    metricsPort,
  );
  const op: Operator = {
    side: 'upstream',
    procs: [p],
    flowPrefixes,
    concurrency: o.concurrency,
    async heapMB(): Promise<Record<string, number>> {
      if (!alive(p)()) return {};
      return { operator: ((await promMetrics(metricsPort)).get('go_memstats_heap_inuse_bytes') ?? NaN) / 2 ** 20 };
    },
    async stop() {
      await stopProc(p);
    },
  };
  try {
    await waitHttpOk(`http://127.0.0.1:${probePort}/readyz`, 60_000, alive(p));
  } catch (err) {
    await op.stop();
    throw new Error(`${(err as Error).message}\n${tail(p.logFile)}`);
  }
  return op;
}

/** The same actors for both sides: RabbitMQ, KEDA scaling from 0, one runtime container. */
export function benchActor(ns: string, i: number): object {
  return {
    apiVersion: 'asya.sh/v1alpha1',
    kind: 'AsyncActor',
    metadata: { name: `bench-${i}`, namespace: ns },
    spec: {
      transport: 'rabbitmq',
      scaling: { enabled: true, minReplicas: 0, maxReplicas: 5, pollingInterval: 30, queueLength: 5 },
      workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] } } },
    },
  };
}

type Cond = { type: string; status: string; reason?: string };
type ActorObj = { metadata: { name: string; generation?: number }; status?: { observedGeneration?: number; conditions?: Cond[]; workloadRef?: unknown } };
const cond = (a: ActorObj, t: string) => a.status?.conditions?.find((c) => c.type === t);

/**
 * The actor's status says its queue, workload and ScaledObject are made, for the current generation.
 * ours:     TransportReady, WorkloadReady and ScalingReady True.
 * upstream: status.observedGeneration = generation, TransportReady and ScalingReady True, workloadRef set (its
 *           WorkloadReady is True only while the Deployment has pods, False "No pods found" at 0 replicas).
 */
export function statusReconciled(side: Side, a: ActorObj): boolean {
  if (side === 'ours') return ['TransportReady', 'WorkloadReady', 'ScalingReady'].every((t) => cond(a, t)?.status === 'True');
  return a.status?.observedGeneration === a.metadata.generation && cond(a, 'TransportReady')?.status === 'True' && cond(a, 'ScalingReady')?.status === 'True' && !!a.status?.workloadRef;
}

export const apiPaths = (ns: string) => ({
  actors: `/apis/asya.sh/v1alpha1/namespaces/${ns}/asyncactors`,
  deployments: `/apis/apps/v1/namespaces/${ns}/deployments`,
  scaledObjects: `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects`,
});

/** Creates the actors through the API with `concurrency` requests in flight (the admin's, not the operator's). */
export async function createActors(api: Api, ns: string, n: number, concurrency = 8): Promise<void> {
  await Api.pool(
    Array.from({ length: n }, (_, i) => i),
    concurrency,
    async (i) => void (await api.ok('POST', apiPaths(ns).actors, benchActor(ns, i))),
  );
}
