// Ours side by side with upstream Asya's Go operator (controller-runtime), `npm run bench:e2e -- upstream`:
// rounds alternating ours / upstream, each on a fresh control plane with KEDA (test/e2e/support/controlPlane.ts)
// and a fresh RabbitMQ, the same N actors (support/operators.ts). Per round: converge (create N; until queue,
// Deployment and ScaledObject exist for all; until every status is reconciled), KEDA readiness, idle, update
// (maxReplicas of all until every ScaledObject shows it), delete (until every queue is gone). API requests per
// ServiceAccount and verb from FlowSchemas (support/measure.ts), CPU and memory from /proc. Prints the medians
// and the ratio ours / upstream.
//
// Env: BENCH_ROUNDS (3), BENCH_ACTORS (200), BENCH_IDLE_S (40), BENCH_RESYNC_S (ours, 30),
//      BENCH_OURS_CONCURRENCY (the chart's), BENCH_UPSTREAM_CONCURRENCY (upstream's default 10),
//      BENCH_SIDES (ours,upstream), BENCH_KEDA_WAIT_S (300: how long to wait for KEDA's Ready).
import { startControlPlane } from '../../test/e2e/support/controlPlane.js';
import { RabbitNode } from '../../test/support/rabbitmq.js';
import { Api, QueueProbe, e2eBinDir, fmt, median, procSample, tempDir, type VerbCounts } from './support/measure.js';
import { actorNamespace, installCrd, startOurs, startUpstream, upstreamBinary, type Operator, type Side } from './support/operators.js';
import { converge, idle, kedaReady, remove, update, type Ctx } from './support/phases.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ACTORS = Number(process.env.BENCH_ACTORS ?? 200);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 40);
const RESYNC_S = Number(process.env.BENCH_RESYNC_S ?? 30);
const OURS_CONCURRENCY = process.env.BENCH_OURS_CONCURRENCY ? Number(process.env.BENCH_OURS_CONCURRENCY) : undefined;
const UPSTREAM_CONCURRENCY = Number(process.env.BENCH_UPSTREAM_CONCURRENCY ?? 10);
const KEDA_WAIT_S = Number(process.env.BENCH_KEDA_WAIT_S ?? 300);
const SIDES = (process.env.BENCH_SIDES ?? 'ours,upstream').split(',') as Side[];
const NS = 'bench';

interface Round {
  side: Side;
  existS: number;
  statusS: number;
  readsPerActor: number;
  writesPerActor: number;
  convergeCounts: VerbCounts;
  convergeCpuS: number;
  rssAfterMB: number;
  rssAfterByProc: Record<string, number>;
  heapAfterMB: Record<string, number>;
  kedaReadyS: number;
  kedaWritesPerActor: number;
  idleWrites: number;
  idleReads: number;
  idleS: number;
  idleCpuS: number;
  updateS: number;
  updateCpuS: number;
  updateWritesPerActor: number;
  updateReadsPerActor: number;
  deleteQueuesS: number;
  deleteActorsS: number;
  deleteCpuS: number;
  deleteWritesPerActor: number;
  peakMB: number;
  peakByProc: Record<string, number>;
  idleByVerb: Record<string, number>;
}

const verbs = (c: VerbCounts) =>
  Object.entries(c.byVerb)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

async function round(side: Side, i: number, binDir: string, upstreamBin: string): Promise<Round> {
  const t = Date.now();
  const cp = await startControlPlane({ withKeda: true, binDir });
  const rabbit = await RabbitNode.start();
  const api = new Api(cp);
  let op: Operator | undefined;
  let probe: QueueProbe | undefined;
  try {
    const dir = tempDir(`asya-bench-${side}-`);
    await installCrd(cp, side, upstreamBin);
    await actorNamespace(cp, NS);
    op =
      side === 'ours'
        ? await startOurs(cp, dir, { ns: NS, rabbitPort: rabbit.port, concurrency: OURS_CONCURRENCY, resyncSeconds: RESYNC_S })
        : await startUpstream(cp, dir, { ns: NS, rabbitPort: rabbit.port, binary: upstreamBin, concurrency: UPSTREAM_CONCURRENCY });
    probe = await QueueProbe.open(rabbit.url);
    const ctx: Ctx = { api, op, probe, ns: NS, n: ACTORS, pollMs: ACTORS > 500 ? 2000 : 1000, timeoutMs: 20 * 60_000 };
    console.log(`\n## round ${i + 1}: ${side}, concurrency ${op.concurrency} (control plane, RabbitMQ and operator up in ${((Date.now() - t) / 1000).toFixed(1)}s; logs in ${dir})`);

    const c = await converge(ctx);
    console.log(
      `converge: exist ${fmt(c.existS)}s, status ${fmt(c.statusS)}s (creates answered in ${fmt(c.createS)}s); requests ${verbs(c.counts)}; CPU ${fmt(c.cpuS)}s; RSS ${fmt(c.after.rssMB, 0)} MiB; heap ${JSON.stringify(c.heapMB, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))} MiB`,
    );
    if (Object.keys(c.perProc).length > 1) for (const [name, pc] of Object.entries(c.perProc)) console.log(`  ${name}: ${verbs(pc) || 'no requests'}; RSS ${fmt(c.perProcAfter[name]?.rssMB ?? NaN, 0)} MiB`);
    const k = await kedaReady({ ...ctx, timeoutMs: KEDA_WAIT_S * 1000 });
    console.log(`KEDA Ready: ${k.ready}/${ACTORS} after ${fmt(k.seconds)}s more; operator requests meanwhile ${verbs(k.counts)}`);
    const idl = await idle(ctx, IDLE_S);
    console.log(`idle ${fmt(idl.seconds, 0)}s: requests ${verbs(idl.counts) || 'none'}; CPU ${fmt(idl.cpuS, 2)}s`);
    const u = await update(ctx);
    console.log(`update: ${fmt(u.seconds)}s, CPU ${fmt(u.cpuS)}s, requests ${verbs(u.counts)}`);
    const d = await remove(ctx);
    console.log(`delete: queues gone ${fmt(d.queuesGoneS)}s, actors gone ${fmt(d.actorsGoneS)}s, CPU ${fmt(d.cpuS)}s, requests ${verbs(d.counts)}`);
    const peakByProc = Object.fromEntries(op.procs.map((p) => [p.name, readPeak(p.pid)]));
    return {
      side,
      existS: c.existS,
      statusS: c.statusS,
      readsPerActor: c.counts.reads / ACTORS,
      writesPerActor: c.counts.writes / ACTORS,
      convergeCounts: c.counts,
      convergeCpuS: c.cpuS,
      rssAfterMB: c.after.rssMB,
      rssAfterByProc: Object.fromEntries(Object.entries(c.perProcAfter).map(([k2, v]) => [k2, v.rssMB])),
      heapAfterMB: c.heapMB,
      kedaReadyS: k.seconds,
      kedaWritesPerActor: k.counts.writes / ACTORS,
      idleWrites: idl.counts.writes,
      idleReads: idl.counts.reads,
      idleS: idl.seconds,
      idleCpuS: idl.cpuS,
      idleByVerb: idl.counts.byVerb,
      updateS: u.seconds,
      updateCpuS: u.cpuS,
      updateWritesPerActor: u.counts.writes / ACTORS,
      updateReadsPerActor: u.counts.reads / ACTORS,
      deleteQueuesS: d.queuesGoneS,
      deleteActorsS: d.actorsGoneS,
      deleteCpuS: d.cpuS,
      deleteWritesPerActor: d.counts.writes / ACTORS,
      peakMB: Object.values(peakByProc).reduce((s, x) => s + x, 0),
      peakByProc,
    };
  } finally {
    await probe?.close();
    await op?.stop();
    api.close();
    await rabbit.destroy();
    await cp.stop();
  }
}

function readPeak(pid: number): number {
  try {
    return procSample(pid).hwmMB;
  } catch {
    return NaN;
  }
}

export async function run(): Promise<void> {
  const binDir = e2eBinDir();
  const upstreamBin = upstreamBinary();
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which side goes first, so neither always runs on the fresher (or the more loaded) machine.
    const order = i % 2 === 0 ? SIDES : [...SIDES].reverse();
    for (const side of order) rounds.push(await round(side, i, binDir, upstreamBin));
  }
  const of = (side: Side, f: (r: Round) => number) => median(rounds.filter((r) => r.side === side).map(f));
  const row = (label: string, f: (r: Round) => number, digits = 1, unit = '') => {
    const o = of('ours', f);
    const u = of('upstream', f);
    const ratio = Number.isFinite(o) && Number.isFinite(u) && u !== 0 ? (o / u).toFixed(2) : '-';
    return `| ${label} | ${fmt(o, digits)}${unit} | ${fmt(u, digits)}${unit} | ${ratio} |`;
  };
  const n = rounds.filter((r) => r.side === 'ours').length;
  console.log(`\n# ours / upstream: ${ACTORS} actors, medians of ${n} rounds (alternating), ours concurrency ${OURS_CONCURRENCY ?? "the chart's"}, upstream ${UPSTREAM_CONCURRENCY}\n`);
  console.log('| | ours | upstream | ours / upstream |');
  console.log('|---|---|---|---|');
  console.log(row(`queue + Deployment + ScaledObject exist for all ${ACTORS}`, (r) => r.existS, 1, ' s'));
  console.log(row(`status reconciled for all ${ACTORS}`, (r) => r.statusS, 1, ' s'));
  console.log(row('API reads per actor while converging (get + list + watch)', (r) => r.readsPerActor, 2));
  console.log(row('API writes per actor while converging', (r) => r.writesPerActor, 2));
  console.log(row('CPU while converging (ours: reconciler + webhook)', (r) => r.convergeCpuS, 1, ' s'));
  console.log(row('RSS after converge (ours: reconciler + webhook)', (r) => r.rssAfterMB, 0, ' MiB'));
  console.log(row('peak RSS (VmHWM, whole round)', (r) => r.peakMB, 0, ' MiB'));
  console.log(row(`update of all ${ACTORS} until every ScaledObject shows it`, (r) => r.updateS, 1, ' s'));
  console.log(row('CPU of the update', (r) => r.updateCpuS, 1, ' s'));
  console.log(row('delete until every queue is gone', (r) => r.deleteQueuesS, 1, ' s'));
  console.log(row('delete until every actor is gone', (r) => r.deleteActorsS, 1, ' s'));
  console.log(row(`writes while idle (${IDLE_S} s, after KEDA Ready)`, (r) => r.idleWrites, 0));
  console.log(row('reads while idle', (r) => r.idleReads, 0));
  console.log(row('CPU while idle', (r) => r.idleCpuS, 2, ' s'));
  console.log(row('writes per actor, KEDA readiness phase', (r) => r.kedaWritesPerActor, 2));
  console.log(row('writes per actor, update', (r) => r.updateWritesPerActor, 2));
  console.log(row('reads per actor, update', (r) => r.updateReadsPerActor, 2));
  console.log(row('writes per actor, delete', (r) => r.deleteWritesPerActor, 2));
  console.log(row('KEDA reports every ScaledObject Ready (after status)', (r) => r.kedaReadyS, 1, ' s'));
  console.log('\nPer round:');
  console.log('| round | side | exist s | status s | reads/actor | writes/actor | converge CPU s | RSS MiB (per process) | heap MiB | peak MiB | update s | delete s | idle writes |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const perSide: Record<string, number> = {};
  for (const r of rounds) {
    perSide[r.side] = (perSide[r.side] ?? 0) + 1;
    const procs = Object.entries(r.rssAfterByProc)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
    const heap = Object.entries(r.heapAfterMB)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
    console.log(
      `| ${perSide[r.side]} | ${r.side} | ${fmt(r.existS)} | ${fmt(r.statusS)} | ${fmt(r.readsPerActor, 2)} | ${fmt(r.writesPerActor, 2)} | ${fmt(r.convergeCpuS)} | ${fmt(r.rssAfterMB, 0)} (${procs}) | ${heap} | ${fmt(r.peakMB, 0)} | ${fmt(r.updateS)} | ${fmt(r.deleteQueuesS)} | ${r.idleWrites} (${Object.entries(r.idleByVerb).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}) |`,
    );
  }
}
