// Ours at 200 and at 2,000 actors, `npm run bench:e2e -- scale`:
//  1. per-actor convergence cost: N actors created at once on a fresh control plane (with KEDA's CRDs but
//     without the KEDA operator by default, so that KEDA's own polling of 2,000 queues does not share the two
//     cores: BENCH_SCALE_KEDA=1 runs it) and a fresh RabbitMQ, the reconciler and webhook as the chart runs
//     them (support/operators.ts); sizes alternating, BENCH_SCALE_ROUNDS rounds (default 1);
//  2. memory with N actors in the caches: RSS (VmRSS, VmHWM) and V8 heap used of the reconciler and of the
//     webhook, before the actors (0) and after they converged, per actor;
//  3. admission latency (BENCH_PODS pods per batch, BENCH_CONCURRENCY in flight, batches alternating) through
//     the API server of the large run to two webhooks of ours: the one whose cache holds every actor, and a
//     second one whose cache holds one actor (its informer watches a second, empty control plane).
// Env: BENCH_SCALE_SIZES (200,2000), BENCH_SCALE_ROUNDS (1), BENCH_SCALE_KEDA (0), BENCH_OURS_CONCURRENCY (the chart's),
//      BENCH_RESYNC_S (36000: the chart's), BENCH_PODS (300), BENCH_ADMISSION_ROUNDS (3), BENCH_CONCURRENCY (10),
//      BENCH_NODE_FLAGS (extra node flags for both processes, e.g. --max-old-space-size=160 or --cpu-prof),
//      BENCH_SCALE_ADMISSION (1; 0 skips step 3),
//      BENCH_AS_CONTAINERS (1: each process in a memory cgroup with its container's limit from the chart and the
//      image's ENV, so NODE_OPTIONS sizes the heap as in the pod; the peak, the limit hits and OOM kills printed;
//      0: unconfined).
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateCertificates } from '../../src/certs/generate.js';
import { startControlPlane, type ControlPlane } from '../../test/e2e/support/controlPlane.js';
import { RabbitNode } from '../../test/support/rabbitmq.js';
import { freePort } from '../../test/support/ports.js';
import { Api, CLI, QueueProbe, e2eBinDir, fmt, median, pct, procSample, sleep, tempDir, waitHttpOk } from './support/measure.js';
import { actorNamespace, benchActor, installCrd, startOurs, type Operator } from './support/operators.js';
import { converge } from './support/phases.js';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '200,2000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 1);
const WITH_KEDA = process.env.BENCH_SCALE_KEDA === '1';
const CONCURRENCY = process.env.BENCH_OURS_CONCURRENCY ? Number(process.env.BENCH_OURS_CONCURRENCY) : undefined;
const RESYNC_S = Number(process.env.BENCH_RESYNC_S ?? 36000);
const PODS = Number(process.env.BENCH_PODS ?? 300);
const ADMISSION_ROUNDS = Number(process.env.BENCH_ADMISSION_ROUNDS ?? 3);
const POD_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const ADMISSION = process.env.BENCH_SCALE_ADMISSION !== '0';
const AS_CONTAINERS = process.env.BENCH_AS_CONTAINERS !== '0';
const NS = 'bench';

interface Mem {
  rssMB: number;
  hwmMB: number;
  heapMB: number;
}
/** Median of 5 samples 1 s apart, per process (heap used moves with every GC). */
async function memory(op: Operator): Promise<Record<string, Mem>> {
  const samples: Record<string, Mem[]> = {};
  for (let i = 0; i < 5; i++) {
    const heap = await op.heapMB();
    for (const p of op.procs) {
      const s = procSample(p.pid);
      (samples[p.name] ??= []).push({ rssMB: s.rssMB, hwmMB: s.hwmMB, heapMB: heap[p.name] ?? NaN });
    }
    await sleep(1000);
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => [k, { rssMB: median(xs.map((x) => x.rssMB)), hwmMB: Math.max(...xs.map((x) => x.hwmMB)), heapMB: median(xs.map((x) => x.heapMB)) }]),
  );
}

interface SizeRun {
  n: number;
  existS: number;
  statusS: number;
  cpuS: number;
  reads: number;
  writes: number;
  before: Record<string, Mem>;
  after: Record<string, Mem>;
  admission?: { full: number[]; empty: number[] };
  /** Per process confined to its container's limit: the limit, the cgroup's peak, times it hit the limit, OOM kills. */
  containers: Record<string, { limitMiB: number; peakMiB: number; limitHits: number; oomKills: number }>;
}

async function installKedaCrds(cp: ControlPlane): Promise<void> {
  const dir = join(cp.binDir, '..', 'keda-crds');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    const r = await cp.kubectl(['apply', '--server-side', '-f', join(dir, f)]);
    if (r.code !== 0) throw new Error(`KEDA CRD ${f}: ${r.stderr}`);
  }
  await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
}

/** A second webhook of ours whose actor cache holds one actor (bench-0), from a control plane of its own. */
async function emptyCacheWebhook(binDir: string, rabbitPort: number): Promise<{ port: number; caBundle: string; stop: () => Promise<void> }> {
  const cp2 = await startControlPlane({ withKeda: false, binDir });
  const dir = tempDir('asya-bench-webhook-empty-');
  try {
    await installCrd(cp2, 'ours');
    await actorNamespace(cp2, NS);
    const r = await cp2.kubectl(['apply', '-f', '-'], { input: stringify(benchActor(NS, 0)) });
    if (r.code !== 0) throw new Error(r.stderr);
    const certs = generateCertificates({ hosts: ['127.0.0.1'] });
    writeFileSync(join(dir, 'tls.crt'), certs.cert);
    writeFileSync(join(dir, 'tls.key'), certs.key);
    writeFileSync(join(dir, 'config.yaml'), stringify({ transports: { rabbitmq: { type: 'rabbitmq', config: { host: '127.0.0.1', port: rabbitPort, passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' } } } } }));
    const [port, health] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, CLI, 'serve', `--config=${join(dir, 'config.yaml')}`, `--cert-dir=${dir}`, `--port=${port}`, `--health-port=${health}`, `--metrics-port=${health}`, '--body-limit=8mb', '--log-level=info', '--host=127.0.0.1', '--shutdown-delay=0', `--kubeconfig=${cp2.kubeconfig}`],
      { stdio: 'ignore' },
    );
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    await waitHttpOk(`http://127.0.0.1:${health}/readyz`, 60_000, () => child.exitCode === null);
    return {
      port,
      caBundle: Buffer.from(certs.caCert).toString('base64'),
      async stop() {
        const gone = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(10_000)]);
        kill();
        process.removeListener('exit', kill);
        await cp2.stop();
      },
    };
  } catch (err) {
    await cp2.stop();
    throw err;
  }
}

/** Pod admission latencies (ms) through cp's API server to the webhook of `full` (every actor) and of `empty`. */
async function admission(api: Api, fullPort: number, fullCa: string, empty: { port: number; caBundle: string }): Promise<{ full: number[]; empty: number[] }> {
  // The chart's pod webhook would also match these pods: only the two below may.
  await api.request('DELETE', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/bench-asya-operator');
  const hook = (name: string, port: number, caBundle: string, cache: string) => ({
    name,
    clientConfig: { url: `https://127.0.0.1:${port}/mutate/pods`, caBundle },
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
    objectSelector: { matchLabels: { 'bench-cache': cache }, matchExpressions: [{ key: 'asya.sh/actor', operator: 'Exists' }] },
    failurePolicy: 'Fail',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: 10,
    reinvocationPolicy: 'IfNeeded',
  });
  await api.ok('POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'bench-cache' },
    webhooks: [hook('full.pods.bench.asya.sh', fullPort, fullCa, 'full'), hook('empty.pods.bench.asya.sh', empty.port, empty.caBundle, 'empty')],
  });
  await sleep(3000); // the API server picks the configuration up
  const out = { full: [] as number[], empty: [] as number[] };
  const batch = async (cache: 'full' | 'empty', r: number, count: number, record: boolean) => {
    const lat: number[] = [];
    await Api.pool(
      Array.from({ length: count }, (_, i) => i),
      POD_CONCURRENCY,
      async (i) => {
        const t = performance.now();
        const res = await api.request('POST', `/api/v1/namespaces/${NS}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `${cache}-${r}-${i}`, namespace: NS, labels: { 'asya.sh/actor': 'bench-0', 'bench-cache': cache } },
          spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] },
        });
        if (res.status !== 201) throw new Error(`pod ${cache}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
        if (!JSON.parse(res.body).spec.containers.some((c: { name: string }) => c.name === 'asya-sidecar') && !JSON.stringify(JSON.parse(res.body).spec.initContainers ?? []).includes('asya-sidecar'))
          throw new Error(`pod ${cache} not injected`);
        lat.push(performance.now() - t);
      },
    );
    await api.request('DELETE', `/api/v1/namespaces/${NS}/pods?labelSelector=bench-cache%3D${cache}`);
    if (record) out[cache].push(...lat);
  };
  await batch('full', -1, 50, false);
  await batch('empty', -1, 50, false);
  for (let r = 0; r < ADMISSION_ROUNDS; r++) {
    const order: Array<'full' | 'empty'> = r % 2 === 0 ? ['full', 'empty'] : ['empty', 'full'];
    for (const c of order) await batch(c, r, PODS, true);
  }
  return out;
}

async function sizeRun(n: number, binDir: string, withAdmission: boolean): Promise<SizeRun> {
  const t = Date.now();
  const cp = await startControlPlane({ withKeda: WITH_KEDA, binDir });
  const rabbit = await RabbitNode.start();
  const api = new Api(cp);
  let op: Operator | undefined;
  let probe: QueueProbe | undefined;
  try {
    if (!WITH_KEDA) await installKedaCrds(cp);
    const dir = tempDir('asya-bench-scale-');
    await installCrd(cp, 'ours');
    await actorNamespace(cp, NS);
    op = await startOurs(cp, dir, { ns: NS, rabbitPort: rabbit.port, concurrency: CONCURRENCY, resyncSeconds: RESYNC_S, nodeFlags: NODE_FLAGS, asContainers: AS_CONTAINERS });
    probe = await QueueProbe.open(rabbit.url);
    console.log(`\n## ${n} actors, concurrency ${op.concurrency} (up in ${((Date.now() - t) / 1000).toFixed(1)}s; logs in ${dir})`);
    await sleep(3000);
    const before = await memory(op);
    const c = await converge({ api, op, probe, ns: NS, n, pollMs: n > 500 ? 2000 : 1000, timeoutMs: 40 * 60_000 });
    await sleep(5000);
    const after = await memory(op);
    console.log(`exist ${fmt(c.existS)}s, status ${fmt(c.statusS)}s, CPU ${fmt(c.cpuS)}s, reads ${c.counts.reads}, writes ${c.counts.writes}`);
    for (const [k, m] of Object.entries(after)) console.log(`  ${k}: RSS ${fmt(before[k]!.rssMB, 0)} -> ${fmt(m.rssMB, 0)} MiB (peak ${fmt(m.hwmMB, 0)}), heap ${fmt(before[k]!.heapMB, 0)} -> ${fmt(m.heapMB, 0)} MiB`);
    const containers: SizeRun['containers'] = {};
    for (const p of op.procs) {
      if (!p.cgroup) continue;
      const s = p.cgroup.stats();
      containers[p.name] = { limitMiB: p.cgroup.limitBytes / 2 ** 20, peakMiB: s.peakBytes / 2 ** 20, limitHits: s.limitHits, oomKills: s.oomKills };
      console.log(`  ${p.name} in its container's limit: peak ${fmt(s.peakBytes / 2 ** 20, 0)} of ${fmt(p.cgroup.limitBytes / 2 ** 20, 0)} MiB, limit hit ${s.limitHits} times, OOM kills ${s.oomKills}`);
    }
    const run: SizeRun = { n, existS: c.existS, statusS: c.statusS, cpuS: c.cpuS, reads: c.counts.reads, writes: c.counts.writes, before, after, containers };
    if (withAdmission) {
      // The reconciler is not part of admission: stopped, so that it does not react to the bench pods.
      const reconciler = op.procs.find((p) => p.name === 'reconciler')!;
      reconciler.child.kill('SIGTERM');
      await sleep(2000);
      const empty = await emptyCacheWebhook(binDir, rabbit.port);
      try {
        run.admission = await admission(api, op.webhook!.port, op.webhook!.caBundle, empty);
      } finally {
        await empty.stop();
      }
    }
    return run;
  } finally {
    await probe?.close();
    await op?.stop();
    api.close();
    await rabbit.destroy();
    await cp.stop();
  }
}

export async function run(): Promise<void> {
  const binDir = e2eBinDir();
  const runs: SizeRun[] = [];
  const largest = Math.max(...SIZES);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? SIZES : [...SIZES].reverse();
    for (const n of order) runs.push(await sizeRun(n, binDir, ADMISSION && n === largest && r === ROUNDS - 1));
  }
  const of = (n: number, f: (x: SizeRun) => number) => median(runs.filter((x) => x.n === n).map(f));
  console.log(`\n# ours at ${SIZES.join(' and ')} actors (medians of ${ROUNDS} round(s); KEDA operator ${WITH_KEDA ? 'running' : 'not running, its CRDs installed'}; reconciler concurrency ${CONCURRENCY ?? "the chart's"})\n`);
  console.log(`| per actor | ${SIZES.join(' | ')} |`);
  console.log(`|---|${SIZES.map(() => '---').join('|')}|`);
  const line = (label: string, f: (x: SizeRun) => number, d = 1) => console.log(`| ${label} | ${SIZES.map((n) => fmt(of(n, f), d)).join(' | ')} |`);
  line('time until all exist, ms per actor', (x) => (x.existS * 1000) / x.n);
  line('time until every status reconciled, ms per actor', (x) => (x.statusS * 1000) / x.n);
  line('reconciler + webhook CPU, ms per actor', (x) => (x.cpuS * 1000) / x.n);
  line('API reads per actor', (x) => x.reads / x.n, 3);
  line('API writes per actor', (x) => x.writes / x.n, 2);
  for (const proc of ['reconciler', 'webhook']) {
    line(`${proc} RSS growth, KiB per actor`, (x) => ((x.after[proc]!.rssMB - x.before[proc]!.rssMB) * 1024) / x.n);
    line(`${proc} V8 heap growth, KiB per actor`, (x) => ((x.after[proc]!.heapMB - x.before[proc]!.heapMB) * 1024) / x.n);
  }
  console.log('\n| process | actors | RSS MiB | peak RSS MiB (VmHWM) | V8 heap used MiB |');
  console.log('|---|---|---|---|---|');
  for (const proc of ['reconciler', 'webhook'])
    for (const n of SIZES) {
      console.log(`| ${proc} | 0 (before the ${n} run) | ${fmt(of(n, (x) => x.before[proc]!.rssMB), 0)} | ${fmt(of(n, (x) => x.before[proc]!.hwmMB), 0)} | ${fmt(of(n, (x) => x.before[proc]!.heapMB), 0)} |`);
      console.log(`| ${proc} | ${n} | ${fmt(of(n, (x) => x.after[proc]!.rssMB), 0)} | ${fmt(of(n, (x) => x.after[proc]!.hwmMB), 0)} | ${fmt(of(n, (x) => x.after[proc]!.heapMB), 0)} |`);
    }
  if (runs.some((x) => Object.keys(x.containers).length > 0)) {
    console.log('\nIn their containers\' memory limits (a cgroup each, with the chart\'s limit; the image\'s NODE_OPTIONS):\n');
    console.log('| process | actors | limit MiB | peak MiB (cgroup, page cache included) | limit hits | OOM kills |');
    console.log('|---|---|---|---|---|---|');
    for (const proc of ['reconciler', 'webhook'])
      for (const n of SIZES) {
        const xs = runs.filter((x) => x.n === n && x.containers[proc]).map((x) => x.containers[proc]!);
        if (xs.length === 0) continue;
        console.log(`| ${proc} | ${n} | ${fmt(xs[0]!.limitMiB, 0)} | ${fmt(Math.max(...xs.map((x) => x.peakMiB)), 0)} | ${Math.max(...xs.map((x) => x.limitHits))} | ${Math.max(...xs.map((x) => x.oomKills))} |`);
      }
  }
  const adm = runs.find((x) => x.admission)?.admission;
  if (adm) {
    console.log(`\nPod admission through the API server (${ADMISSION_ROUNDS} x ${PODS} pods per cache, ${POD_CONCURRENCY} in flight, batches alternating):\n`);
    console.log('| webhook cache | pods | p50 ms | p90 ms | p99 ms |');
    console.log('|---|---|---|---|---|');
    console.log(`| ${largest} actors | ${adm.full.length} | ${fmt(pct(adm.full, 50), 1)} | ${fmt(pct(adm.full, 90), 1)} | ${fmt(pct(adm.full, 99), 1)} |`);
    console.log(`| 1 actor | ${adm.empty.length} | ${fmt(pct(adm.empty, 50), 1)} | ${fmt(pct(adm.empty, 90), 1)} | ${fmt(pct(adm.empty, 99), 1)} |`);
    console.log(`p50 ratio ${largest} / 1: ${(pct(adm.full, 50) / pct(adm.empty, 50)).toFixed(2)}, p99 ratio ${(pct(adm.full, 99) / pct(adm.empty, 99)).toFixed(2)}`);
  }
}
