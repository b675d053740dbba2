// The phases of a side-by-side round, each timed from outside the operator (the admin's API requests and
// passive queue declares, every `pollMs`) and costed from inside (its ServiceAccounts' requests per verb, its
// processes' CPU and memory): converge (create N actors), KEDA readiness, idle, update, delete.
import { queueNameFor } from '../../../src/names.js';
import { Api, addCounts, flowCounts, procsSample, sleep, verbDelta, type ProcSample, type QueueProbe, type VerbCounts } from './measure.js';
import { apiPaths, createActors, statusReconciled, type Operator } from './operators.js';

export interface Ctx {
  api: Api;
  op: Operator;
  probe: QueueProbe;
  ns: string;
  n: number;
  pollMs: number;
  /** Give up on a phase after this long. */
  timeoutMs: number;
}

/** Requests of all the operator's ServiceAccounts between two snapshots. */
function opCounts(op: Operator, a: Map<string, number>, b: Map<string, number>): VerbCounts {
  return Object.values(op.flowPrefixes)
    .map((p) => verbDelta(p, a, b))
    .reduce(addCounts);
}
export function perProcCounts(op: Operator, a: Map<string, number>, b: Map<string, number>): Record<string, VerbCounts> {
  return Object.fromEntries(Object.entries(op.flowPrefixes).map(([name, p]) => [name, verbDelta(p, a, b)]));
}

const pids = (op: Operator) => op.procs.map((p) => p.pid);
function cpuDelta(a: ProcSample, b: ProcSample): number {
  return b.cpuS - a.cpuS;
}

export interface ConvergeResult {
  /** Queue, Deployment and ScaledObject exist for all N. */
  existS: number;
  /** Every actor's status reconciled (statusReconciled). */
  statusS: number;
  /** From the first create to the last create answered (the admin's requests). */
  createS: number;
  /** Both reached: the counts and CPU below cover [first create, this]. */
  counts: VerbCounts;
  perProc: Record<string, VerbCounts>;
  cpuS: number;
  after: ProcSample;
  perProcAfter: Record<string, ProcSample>;
  heapMB: Record<string, number>;
}

export async function converge(c: Ctx): Promise<ConvergeResult> {
  const { api, op, probe, ns, n } = c;
  const names = Array.from({ length: n }, (_, i) => queueNameFor(`bench-${i}`));
  const queues = new Set<string>();
  const before = await flowCounts(api);
  const cpu0 = procsSample(pids(op));
  const t0 = Date.now();
  let createS = NaN;
  const creating = createActors(api, ns, n).then(() => (createS = (Date.now() - t0) / 1000));
  let existS = NaN;
  let statusS = NaN;
  let failure: unknown;
  creating.catch((e) => (failure = e));
  while (Number.isNaN(existS) || Number.isNaN(statusS)) {
    if (failure) throw failure;
    if (Date.now() - t0 > c.timeoutMs) throw new Error(`converge: not done after ${c.timeoutMs / 1000}s (queues ${queues.size}/${n}, exist ${existS}, status ${statusS})`);
    for (const p of op.procs) if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}); see ${p.logFile}`);
    const tick = Date.now();
    if (Number.isNaN(existS)) {
      for (const q of await probe.existing(names.filter((x) => !queues.has(x)), 16)) queues.add(q);
      const [deps, sos] = await Promise.all([api.names(apiPaths(ns).deployments), api.names(apiPaths(ns).scaledObjects)]);
      if (queues.size === n && deps.length >= n && sos.length >= n) existS = (Date.now() - t0) / 1000;
    }
    if (Number.isNaN(statusS)) {
      const list = await api.ok('GET', apiPaths(ns).actors);
      const done = ((list.items ?? []) as any[]).filter((a) => statusReconciled(op.side, a)).length;
      if (done === n) statusS = (Date.now() - t0) / 1000;
    }
    await sleep(Math.max(0, c.pollMs - (Date.now() - tick)));
  }
  await creating;
  const after = procsSample(pids(op));
  const counts = await flowCounts(api);
  return {
    existS,
    statusS,
    createS,
    counts: opCounts(op, before, counts),
    perProc: perProcCounts(op, before, counts),
    cpuS: cpuDelta(cpu0, after),
    after,
    perProcAfter: Object.fromEntries(op.procs.map((p) => [p.name, procsSample([p.pid])])),
    heapMB: await op.heapMB(),
  };
}

/** Until KEDA reports every ScaledObject Ready (KEDA's own work, the same for both; ours then writes its status once). */
export async function kedaReady(c: Ctx): Promise<{ seconds: number; ready: number; counts: VerbCounts }> {
  const before = await flowCounts(c.api);
  const t0 = Date.now();
  let ready = 0;
  while (Date.now() - t0 < c.timeoutMs) {
    const list = await c.api.ok('GET', apiPaths(c.ns).scaledObjects);
    ready = ((list.items ?? []) as any[]).filter((s) => s.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')).length;
    if (ready >= c.n) break;
    await sleep(c.pollMs);
  }
  // The operator's reaction to the last Ready (ours: a status write) lands within a moment.
  await sleep(3000);
  return { seconds: (Date.now() - t0 - 3000) / 1000, ready, counts: opCounts(c.op, before, await flowCounts(c.api)) };
}

export async function idle(c: Ctx, seconds: number): Promise<{ seconds: number; counts: VerbCounts; cpuS: number }> {
  const before = await flowCounts(c.api);
  const cpu0 = procsSample(pids(c.op));
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const cpu1 = procsSample(pids(c.op));
  return { seconds: (Date.now() - t0) / 1000, counts: opCounts(c.op, before, await flowCounts(c.api)), cpuS: cpuDelta(cpu0, cpu1) };
}

/** spec.scaling.maxReplicas of every actor 5 -> 6 (merge patches by the admin), until every ScaledObject has it. */
export async function update(c: Ctx): Promise<{ seconds: number; counts: VerbCounts; cpuS: number }> {
  const before = await flowCounts(c.api);
  const cpu0 = procsSample(pids(c.op));
  const t0 = Date.now();
  const patching = Api.pool(
    Array.from({ length: c.n }, (_, i) => i),
    8,
    async (i) =>
      void (await c.api.ok('PATCH', `${apiPaths(c.ns).actors}/bench-${i}`, { spec: { scaling: { maxReplicas: 6 } } }, { 'content-type': 'application/merge-patch+json' })),
  );
  let failure: unknown;
  patching.catch((e) => (failure = e));
  for (;;) {
    if (failure) throw failure;
    if (Date.now() - t0 > c.timeoutMs) throw new Error('update: ScaledObjects not updated in time');
    const list = await c.api.ok('GET', apiPaths(c.ns).scaledObjects);
    if (((list.items ?? []) as any[]).filter((s) => s.spec?.maxReplicaCount === 6).length >= c.n) break;
    await sleep(c.pollMs);
  }
  const seconds = (Date.now() - t0) / 1000;
  await patching;
  const cpu1 = procsSample(pids(c.op));
  return { seconds, counts: opCounts(c.op, before, await flowCounts(c.api)), cpuS: cpuDelta(cpu0, cpu1) };
}

/** One DELETE of the collection (the admin's), until every actor queue is gone; and until every actor is gone. */
export async function remove(c: Ctx): Promise<{ queuesGoneS: number; actorsGoneS: number; counts: VerbCounts; cpuS: number }> {
  const names = Array.from({ length: c.n }, (_, i) => queueNameFor(`bench-${i}`));
  const before = await flowCounts(c.api);
  const cpu0 = procsSample(pids(c.op));
  const t0 = Date.now();
  await c.api.ok('DELETE', apiPaths(c.ns).actors);
  let queuesGoneS = NaN;
  let actorsGoneS = NaN;
  let left = names;
  while (Number.isNaN(queuesGoneS) || Number.isNaN(actorsGoneS)) {
    if (Date.now() - t0 > c.timeoutMs) throw new Error(`delete: ${left.length} queues left after ${c.timeoutMs / 1000}s`);
    const tick = Date.now();
    if (Number.isNaN(queuesGoneS)) {
      const still = await c.probe.existing(left, 16);
      left = left.filter((q) => still.has(q));
      if (left.length === 0) queuesGoneS = (Date.now() - t0) / 1000;
    }
    if (Number.isNaN(actorsGoneS) && (await c.api.names(apiPaths(c.ns).actors)).length === 0) actorsGoneS = (Date.now() - t0) / 1000;
    await sleep(Math.max(0, c.pollMs - (Date.now() - tick)));
  }
  const cpu1 = procsSample(pids(c.op));
  return { queuesGoneS, actorsGoneS, counts: opCounts(c.op, before, await flowCounts(c.api)), cpuS: cpuDelta(cpu0, cpu1) };
}
