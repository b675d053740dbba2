// Pod injection over HTTPS keep-alive, side by side with a floor server (bench/floorServer.ts), each in its
// own process, with the load generated from this one. Figures are medians of alternating rounds, so the
// drift of a shared machine hits both sides alike.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ActorIndex } from '../src/api/actorIndex.js';
import { generateCertificates } from '../src/certs/generate.js';
import { parseConfig } from '../src/config/load.js';
import { injectPod } from '../src/injection/inject.js';
import { freePort } from '../test/support/ports.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli', 'main.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const config = { transports: { rabbitmq: { type: 'rabbitmq', config: { host: 'rabbit', passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' } } } } };
const actor = {
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name: 'echo', namespace: 'bench' },
  spec: { transport: 'rabbitmq', workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13' }] } } } },
};

function pod(containers: number, envPerContainer: number) {
  const env = Array.from({ length: envPerContainer }, (_, i) => ({ name: `VAR_${i}`, value: `value-number-${i}` }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'echo-5d8f7b-', namespace: 'bench', labels: { 'asya.sh/actor': 'echo', 'pod-template-hash': '5d8f7b' } },
    spec: {
      containers: [
        { name: 'asya-runtime', image: 'python:3.13', env },
        ...Array.from({ length: containers - 1 }, (_, c) => ({ name: `helper-${c}`, image: 'busybox', env })),
      ],
    },
  };
}

function reviewBody(object: unknown): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: '4b1f7a1e-bench', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'bench', operation: 'CREATE', object },
  });
}


async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function send(agent: https.Agent, ca: string, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', port, path, method: 'POST', agent, ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Run {
  rps: number;
  latencies: number[];
  /** CPU seconds the server process spent per review (user + system, from /proc). */
  cpuPerReview: number;
}

/** utime + stime of a process, in seconds (Linux /proc, clock ticks of 10 ms). */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Closed loop: CONCURRENCY clients back to back for `seconds`. */
async function closedLoop(pid: number, port: number, ca: string, path: string, body: string, seconds: number): Promise<Run> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
  // Warm the connections (handshakes are not what we measure).
  await Promise.all(Array.from({ length: CONCURRENCY }, () => send(agent, ca, port, path, body)));
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const cpu0 = processCpu(pid);
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) latencies.push(await send(agent, ca, port, path, body));
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = processCpu(pid) - cpu0;
  agent.destroy();
  return { rps: latencies.length / elapsed, latencies, cpuPerReview: cpu / latencies.length };
}

/** Open loop at a fixed rate: latency when the server is not saturated. */
async function fixedRate(port: number, ca: string, path: string, body: string, rate: number, seconds: number): Promise<Run> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca });
  await Promise.all(Array.from({ length: 8 }, () => send(agent, ca, port, path, body)));
  const latencies: number[] = [];
  const total = rate * seconds;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(agent, ca, port, path, body).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  agent.destroy();
  return { rps: latencies.length / ((performance.now() - t0) / 1000), latencies, cpuPerReview: NaN };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const median = (xs: number[]) => pct(xs, 50);

function start(args: string[], ready: () => Promise<boolean>, what: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return waitFor(ready, what).then(() => child);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'asya-bench-'));
  const certs = generateCertificates({ hosts: ['localhost', '127.0.0.1'] });
  writeFileSync(join(dir, 'tls.crt'), certs.cert);
  writeFileSync(join(dir, 'tls.key'), certs.key);
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  writeFileSync(join(dir, 'actors.yaml'), stringify(actor));
  const [oursPort, healthPort, floorPort] = [await freePort(), await freePort(), await freePort()];
  const ca = certs.caCert;
  const children: ChildProcess[] = [];
  try {
    children.push(
      await start(
        [cli, 'serve', '--config', join(dir, 'config.yaml'), '--cert-dir', dir, '--port', String(oursPort), '--host', '127.0.0.1', '--health-port', String(healthPort), '--metrics-port', String(healthPort), '--actors', join(dir, 'actors.yaml'), '--log-level', 'error'],
        () => new Promise((r) => http.get(`http://127.0.0.1:${healthPort}/readyz`, (res) => r(res.statusCode === 200)).on('error', () => r(false))),
        'the webhook',
      ),
    );
    children.push(
      await start([join(here, 'floorServer.js'), dir, String(floorPort)], () => send(new https.Agent(), ca, floorPort, '/', '{}').then(() => true), 'the floor server'),
    );

    const [oursPid, floorPid] = [children[0]!.pid!, children[1]!.pid!];
    const pods = { small: pod(1, 0), large: pod(10, 100) };
    console.log(`node ${process.version}, ${ROUNDS} alternating rounds of ${SECONDS}s per side, ${CONCURRENCY} keep-alive connections`);
    console.log('| pod | server | reviews/s (median) | p50 ms | p99 ms | throughput vs floor | server CPU µs/review |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [name, p] of Object.entries(pods)) {
      const body = reviewBody(p);
      const floor: Run[] = [];
      const ours: Run[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which side goes first.
        const order = round % 2 === 0 ? ['floor', 'ours'] : ['ours', 'floor'];
        for (const side of order) {
          if (side === 'floor') floor.push(await closedLoop(floorPid, floorPort, ca, '/', body, SECONDS));
          else ours.push(await closedLoop(oursPid, oursPort, ca, '/mutate/pods', body, SECONDS));
        }
      }
      const f = median(floor.map((r) => r.rps));
      const o = median(ours.map((r) => r.rps));
      const line = (server: string, runs: Run[], rps: number, ratio: string) =>
        console.log(
          `| ${name} (${Buffer.byteLength(body)} B) | ${server} | ${rps.toFixed(0)} | ${median(runs.map((r) => pct(r.latencies, 50))).toFixed(2)} | ${median(runs.map((r) => pct(r.latencies, 99))).toFixed(2)} | ${ratio} | ${(median(runs.map((r) => r.cpuPerReview)) * 1e6).toFixed(0)} |`,
        );
      line('floor', floor, f, '1.00');
      line('asya', ours, o, (o / f).toFixed(2));
    }

    console.log('\nLatency at a fixed 500 reviews/s (5 s, open loop):');
    console.log('| pod | server | p50 ms | p99 ms |');
    console.log('|---|---|---|---|');
    for (const [name, p] of Object.entries(pods)) {
      const body = reviewBody(p);
      const f = await fixedRate(floorPort, ca, '/', body, 500, 5);
      const o = await fixedRate(oursPort, ca, '/mutate/pods', body, 500, 5);
      console.log(`| ${name} | floor | ${pct(f.latencies, 50).toFixed(2)} | ${pct(f.latencies, 99).toFixed(2)} |`);
      console.log(`| ${name} | asya | ${pct(o.latencies, 50).toFixed(2)} | ${pct(o.latencies, 99).toFixed(2)} |`);
    }

    // CPU of the pure injection for the large pod (no HTTP, no JSON).
    const index = new ActorIndex();
    index.upsert(actor as never);
    const cfg = parseConfig(structuredClone(config));
    const a = index.get('bench', 'echo');
    const large = pods.large;
    for (let i = 0; i < 200; i++) injectPod({ pod: large, namespace: 'bench', actor: a, config: cfg });
    const samples: number[] = [];
    for (let s = 0; s < 5; s++) {
      const n = 500;
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) injectPod({ pod: large, namespace: 'bench', actor: a, config: cfg });
      const c = process.cpuUsage(c0);
      samples.push((c.user + c.system) / 1000 / n);
    }
    console.log(`\ninjectPod CPU per call, large pod (10 containers x 100 env): median ${median(samples).toFixed(3)} ms (5 samples of 500 calls)`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
