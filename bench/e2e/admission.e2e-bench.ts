// Pod admission through a real kube-apiserver, in alternating batches so the machine's drift cancels out:
// pods no webhook matches, pods sent to a floor webhook (bench/floorServer.ts, a fixed small patch), pods
// sent to the same floor answering a fixed copy of OUR patch (what the API server spends applying and
// storing an injected pod, without our server), and actor pods sent to ours. Pods are created with
// POST /api/v1/.../pods at a fixed concurrency.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';
import { ActorIndex } from '../../src/api/actorIndex.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { parseConfig } from '../../src/config/load.js';
import { injectPod } from '../../src/injection/inject.js';
import { startControlPlane, type ControlPlane } from '../../test/e2e/support/controlPlane.js';
import { freePort } from '../../test/support/ports.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, '..', '..', '..'); // dist/bench/e2e -> the repository
const CLI = join(here, '..', '..', 'src', 'cli', 'main.js');
const FLOOR = join(here, '..', 'floorServer.js');
const PODS = Number(process.env.BENCH_PODS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const NS = 'bench';

type Way = 'none' | 'floor' | 'floor-full' | 'asya';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const median = (xs: number[]) => pct(xs, 50);


function api(cp: ControlPlane, agent: https.Agent, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const url = new URL(path, cp.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        agent,
        headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json', ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function pod(way: Way, i: number, round: number) {
  const labels: Record<string, string> = { bench: way };
  if (way === 'asya') labels['asya.sh/actor'] = 'echo';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${way}-${round}-${i}`, namespace: NS, labels },
    spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] },
  };
}

async function batch(cp: ControlPlane, agent: https.Agent, way: Way, round: number): Promise<{ rate: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PODS) {
        const i = next++;
        const started = performance.now();
        const r = await api(cp, agent, 'POST', `/api/v1/namespaces/${NS}/pods`, pod(way, i, round));
        if (r.status !== 201) throw new Error(`creating a ${way} pod: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  // Unscheduled pods go at once: keep etcd the same size for every batch.
  await api(cp, agent, 'DELETE', `/api/v1/namespaces/${NS}/pods?labelSelector=bench%3D${way}`);
  return { rate: PODS / elapsed, latencies };
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => http.get(url, (res) => r(res.statusCode === 200)).on('error', () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready`);
}

export async function run(): Promise<void> {
  const binDir = process.env.ASYA_E2E_BIN_DIR ?? execFileSync('bash', [join(REPO, 'scripts', 'e2e-tools.sh'), '--print-bin-dir'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const cp = await startControlPlane({ withKeda: false, binDir });
  const dir = mkdtempSync(join(tmpdir(), 'asya-bench-e2e-'));
  const children: ChildProcess[] = [];
  try {
    const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 2, ca: readFileSync(cp.caFile) });
    const certs = generateCertificates({ hosts: ['127.0.0.1'] });
    writeFileSync(join(dir, 'tls.crt'), certs.cert);
    writeFileSync(join(dir, 'tls.key'), certs.key);
    writeFileSync(join(dir, 'config.yaml'), stringify({ transports: { rabbitmq: { type: 'rabbitmq', config: { host: '127.0.0.1' } } } }));

    const crd = await api(cp, agent, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', buildCrd());
    if (crd.status !== 201) throw new Error(`CRD: ${crd.body}`);
    await api(cp, agent, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await new Promise((r) => setTimeout(r, 2000)); // CRD established, default ServiceAccount created
    const actor = { apiVersion: 'asya.sh/v1alpha1', kind: 'AsyncActor', metadata: { name: 'echo', namespace: NS }, spec: { transport: 'rabbitmq', workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] } } } } };
    const created = await api(cp, agent, 'POST', `/apis/asya.sh/v1alpha1/namespaces/${NS}/asyncactors`, actor);
    if (created.status !== 201) throw new Error(`actor: ${created.body}`);

    const [oursPort, oursHealth, floorPort] = [await freePort(), await freePort(), await freePort()];
    children.push(
      spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.yaml'), '--cert-dir', dir, '--host', '127.0.0.1', '--port', String(oursPort), '--health-port', String(oursHealth), '--metrics-port', String(oursHealth), '--kubeconfig', cp.kubeconfig, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] }),
    );
    children.push(spawn(process.execPath, [FLOOR, dir, String(floorPort), '--echo-uid'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    // Our patch for the bench pod, computed by the same injectPod, served fixed by a second floor.
    const index = new ActorIndex();
    index.upsert(actor as never);
    const injected = injectPod({ pod: pod('asya', 0, 0), namespace: NS, actor: index.get(NS, 'echo'), config: parseConfig(parse(readFileSync(join(dir, 'config.yaml'), 'utf8'))) });
    if (injected.outcome !== 'injected') throw new Error(`bench pod not injected: ${injected.outcome}`);
    writeFileSync(join(dir, 'patch.json'), JSON.stringify(injected.patch));
    const floorFullPort = await freePort();
    children.push(spawn(process.execPath, [FLOOR, dir, String(floorFullPort), '--echo-uid', '--patch-file', join(dir, 'patch.json')], { stdio: ['ignore', 'ignore', 'inherit'] }));
    await waitReady(`http://127.0.0.1:${oursHealth}/readyz`);

    const caBundle = Buffer.from(certs.caCert).toString('base64');
    const hook = (name: string, url: string, selector: Record<string, unknown>) => ({
      name,
      clientConfig: { url, caBundle },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      objectSelector: selector,
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 5,
    });
    const mwc = await api(cp, agent, 'POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'bench' },
      webhooks: [
        hook('floor.bench.asya.sh', `https://127.0.0.1:${floorPort}/`, { matchLabels: { bench: 'floor' } }),
        hook('floor-full.bench.asya.sh', `https://127.0.0.1:${floorFullPort}/`, { matchLabels: { bench: 'floor-full' } }),
        hook('inject.pods.asya.sh', `https://127.0.0.1:${oursPort}/mutate/pods`, { matchExpressions: [{ key: 'asya.sh/actor', operator: 'Exists' }] }),
      ],
    });
    if (mwc.status !== 201) throw new Error(`webhook configuration: ${mwc.body}`);
    await new Promise((r) => setTimeout(r, 1500));

    // Warm-up: connections, caches, JIT on every side.
    for (const way of ['none', 'floor', 'floor-full', 'asya'] as const) await batch(cp, agent, way, -1);

    const results: Record<Way, Array<{ rate: number; latencies: number[] }>> = { none: [], floor: [], 'floor-full': [], asya: [] };
    const orders: Way[][] = [
      ['none', 'floor', 'floor-full', 'asya'],
      ['asya', 'none', 'floor', 'floor-full'],
      ['floor-full', 'asya', 'none', 'floor'],
      ['floor', 'floor-full', 'asya', 'none'],
    ];
    for (let round = 0; round < ROUNDS; round++) for (const way of orders[round % orders.length]!) results[way].push(await batch(cp, agent, way, round));

    const stats = (way: Way) => ({
      rate: median(results[way].map((r) => r.rate)),
      p50: median(results[way].map((r) => pct(r.latencies, 50))),
      p99: median(results[way].map((r) => pct(r.latencies, 99))),
    });
    const none = stats('none');
    const floor = stats('floor');
    const floorFull = stats('floor-full');
    const ours = stats('asya');
    console.log(`kube-apiserver v1.37.2, ${ROUNDS} rounds of ${PODS} pods per way at ${CONCURRENCY} concurrent creates (medians of rounds)`);
    console.log('| pods | pods/s | p50 ms | p99 ms | p50 added | rate cost |');
    console.log('|---|---|---|---|---|---|');
    const line = (name: string, s: typeof none) =>
      console.log(`| ${name} | ${s.rate.toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${name === 'no webhook' ? '-' : `${(s.p50 - none.p50).toFixed(1)} ms`} | ${name === 'no webhook' ? '-' : `${((1 - s.rate / none.rate) * 100).toFixed(0)} %`} |`);
    line('no webhook', none);
    line('floor webhook, small patch', floor);
    line('floor webhook, our patch', floorFull);
    line('asya webhook', ours);
    const added = (s: typeof none) => s.p50 - none.p50;
    console.log(`\nlatency asya adds / latency the floor adds (p50): ${(added(ours) / added(floor)).toFixed(2)} with the small patch, ${(added(ours) / added(floorFull)).toFixed(2)} with our patch (target <= 1.25)`);
    // Where the time goes, by the API server's own account: the webhook call itself (network + answer).
    const metrics = (await api(cp, agent, 'GET', '/metrics')).body;
    for (const name of ['floor.bench.asya.sh', 'floor-full.bench.asya.sh', 'inject.pods.asya.sh']) {
      const get = (suffix: string) =>
        metrics
          .split('\n')
          .filter((l) => l.startsWith(`apiserver_admission_webhook_admission_duration_seconds_${suffix}{`) && l.includes(`name="${name}"`))
          .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      console.log(`webhook ${name}: ${get('count')} calls, mean ${((get('sum') / get('count')) * 1000).toFixed(2)} ms per call as the API server sees it`);
    }
    const oursMetrics = await new Promise<string>((resolve) => http.get(`http://127.0.0.1:${oursHealth}/metrics`, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => resolve(t));
    }));
    console.log(oursMetrics.split('\n').filter((l) => l.startsWith('asya_webhook_tls_handshakes_total') || l.startsWith('asya_webhook_admission_duration_seconds_sum') || l.startsWith('asya_webhook_admission_duration_seconds_count')).join('\n'));
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
