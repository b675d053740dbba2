// The reconciler through a real control plane (kube-apiserver, kube-controller-manager, KEDA), a real RabbitMQ
// and the built `asya-webhook controller`: N AsyncActors applied at once, the time until every one reports its
// queue, workload and KEDA-Ready ScaledObject in status, the API writes per actor (the API server's own
// apiserver_request_total), then an idle period of resyncs and the writes it made (expected: none).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';
import { apiserverMetrics, deltas, writesByResource } from '../../test/e2e/support/apiCounts.js';
import { startControlPlane, type ControlPlane } from '../../test/e2e/support/controlPlane.js';
import { RabbitNode } from '../../test/support/rabbitmq.js';
import { freePort } from '../../test/support/ports.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'src', 'cli', 'main.js');
const REPO = join(here, '..', '..', '..');
const ACTORS = Number(process.env.BENCH_ACTORS ?? 200);
const RESYNC_S = Number(process.env.BENCH_RESYNC_S ?? 30);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 2 * RESYNC_S + 10);
const CONCURRENCY = Number(process.env.BENCH_RECONCILE_CONCURRENCY ?? 4);
const NS = 'bench-reconcile';

function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = execFile(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfig, ...args], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(String(stdout)),
    );
    c.stdin?.end(input ?? '');
  });
}

async function requestTotals(cp: ControlPlane): Promise<Map<string, number>> {
  return writesByResource(await apiserverMetrics(cp.server, cp.token, readFileSync(cp.caFile)), ['asya.sh', 'apps', 'keda.sh', '']);
}

const delta = (a: Map<string, number>, b: Map<string, number>) => Object.entries(deltas(a, b)).sort(([x], [y]) => x.localeCompare(y));

/**
 * Who makes a write (apiserver_request_total has no user label): by verb and resource, from what each
 * component does. Events are written by everyone; the reconciler's own are counted by reportingComponent.
 */
function writer(key: string): string {
  const [verb, res] = key.split(' ') as [string, string];
  if (res === 'asya.sh/asyncactors' && verb === 'POST') return 'kubectl (the bench)';
  if (res.startsWith('asya.sh/')) return 'reconciler';
  if (res === 'events') return 'all (see below)';
  if (res.startsWith('keda.sh/') && (res.endsWith('/status') || verb === 'PATCH')) return 'KEDA';
  // KEDA adds its finalizer (and, on ScaledObjects, the label scaledobject.keda.sh/name) with an update.
  if (res.startsWith('keda.sh/') && verb === 'PUT') return 'KEDA';
  if (res.startsWith('keda.sh/')) return 'reconciler';
  if (res === 'apps/deployments/scale' || res === 'apps/statefulsets/scale') return 'KEDA / HPA';
  if (res === 'apps/deployments' || res === 'apps/statefulsets') return verb === 'PUT' ? 'reconciler or kube-controller-manager' : 'reconciler';
  if (res === 'configmaps' || res === 'serviceaccounts') return 'reconciler (and kube-controller-manager per namespace)';
  return 'kube-controller-manager';
}
const isOurs = (key: string) => writer(key).startsWith('reconciler');

async function reconcilerEvents(cp: ControlPlane): Promise<number> {
  const list = JSON.parse(await kubectl(cp, ['get', 'events', '-n', NS, '-o', 'json'])) as { items: Array<{ reportingComponent?: string }> };
  return list.items.filter((e) => e.reportingComponent === 'asya-reconciler').length;
}

export async function run(): Promise<void> {
  const started = Date.now();
  const binDir = process.env.ASYA_E2E_BIN_DIR ?? execFileSync('bash', [join(REPO, 'scripts', 'e2e-tools.sh'), '--print-bin-dir'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const cp = await startControlPlane({ withKeda: true, binDir });
  const rabbit = await RabbitNode.start();
  let child: ReturnType<typeof spawn> | undefined;
  const killChild = () => child?.kill('SIGKILL');
  process.once('exit', killChild);
  try {
    console.log(`control plane and RabbitMQ up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    await kubectl(cp, ['apply', '--server-side', '-f', '-'], stringify(buildCrd()));
    await kubectl(cp, ['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
    await kubectl(cp, ['create', 'namespace', NS]);
    await kubectl(cp, ['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: NS }, stringData: { username: 'guest', password: 'guest' } }));

    const dir = mkdtempSync(join(tmpdir(), 'asya-bench-reconcile-'));
    writeFileSync(join(dir, 'password'), 'guest');
    writeFileSync(join(dir, 'asya_runtime.py'), 'print("runtime")\n');
    writeFileSync(
      join(dir, 'config.yaml'),
      stringify({
        transports: {
          rabbitmq: { type: 'rabbitmq', config: { host: '127.0.0.1', port: rabbit.port, username: 'guest', passwordFile: join(dir, 'password'), passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' } } },
        },
        runtime: { scriptPath: join(dir, 'asya_runtime.py') },
        reconciler: { concurrency: CONCURRENCY, resyncPeriodSeconds: RESYNC_S, leaderElection: { enabled: false } },
      }),
    );
    const healthPort = await freePort();
    const metricsPort = await freePort();
    const log = createWriteStream(join(dir, 'reconciler.log'));
    child = spawn(process.execPath, [CLI, 'controller', `--config=${join(dir, 'config.yaml')}`, `--kubeconfig=${cp.kubeconfig}`, `--health-port=${healthPort}`, `--metrics-port=${metricsPort}`, '--host=127.0.0.1', '--log-level=info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    for (let i = 0; ; i++) {
      const ok = await new Promise<boolean>((r) => http.get(`http://127.0.0.1:${healthPort}/readyz`, (res) => r(res.statusCode === 200)).on('error', () => r(false)));
      if (ok) break;
      if (i > 100) throw new Error('reconciler not ready');
      await new Promise((r) => setTimeout(r, 200));
    }

    const actors = Array.from({ length: ACTORS }, (_, i) => ({
      apiVersion: 'asya.sh/v1alpha1',
      kind: 'AsyncActor',
      metadata: { name: `bench-${i}`, namespace: NS },
      spec: {
        transport: 'rabbitmq',
        scaling: { enabled: true, minReplicas: 0, maxReplicas: 5, pollingInterval: 30, queueLength: 5 },
        workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] } } },
      },
    }));
    const before = await requestTotals(cp);
    const t0 = Date.now();
    await kubectl(cp, ['apply', '-f', '-'], actors.map((a) => stringify(a)).join('---\n'));
    const applied = Date.now() - t0;
    const firstReady: number[] = [];
    let ready = 0;
    let firstPass: number | undefined;
    for (;;) {
      const list = JSON.parse(await kubectl(cp, ['get', 'asyas', '-n', NS, '-o', 'json'])) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string; reason?: string }> } }> };
      const c = (a: (typeof list.items)[number], t: string) => a.status?.conditions?.find((x) => x.type === t);
      const reconciled = list.items.filter((a) => ['TransportReady', 'WorkloadReady', 'ScalingReady'].every((t) => c(a, t)?.status === 'True')).length;
      if (firstPass === undefined && reconciled === ACTORS) firstPass = Date.now() - t0;
      ready = list.items.filter((a) => c(a, 'TransportReady')?.status === 'True' && c(a, 'WorkloadReady')?.status === 'True' && c(a, 'ScalingReady')?.reason === 'ScaledObjectReady').length;
      if (ready > firstReady.length) for (let k = firstReady.length; k < ready; k++) firstReady.push(Date.now() - t0);
      if (ready === ACTORS) break;
      if (Date.now() - t0 > 15 * 60_000) throw new Error(`only ${ready}/${ACTORS} ready after 15 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const allReady = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 5000));
    const afterCreate = await requestTotals(cp);
    const createDeltas = delta(before, afterCreate);
    const eventsCreate = await reconcilerEvents(cp);

    const resyncCount = () => (readFileSync(join(dir, 'reconciler.log'), 'utf8').match(/periodic resync/g) ?? []).length;
    const resyncsBefore = resyncCount();
    const idleStart = Date.now();
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const afterIdle = await requestTotals(cp);
    const idleDeltas = delta(afterCreate, afterIdle);
    const eventsIdle = (await reconcilerEvents(cp)) - eventsCreate;
    const resyncs = resyncCount() - resyncsBefore;

    console.log(`\n${ACTORS} AsyncActors applied at once (kubectl apply took ${(applied / 1000).toFixed(1)}s), reconciler concurrency ${CONCURRENCY}, real RabbitMQ + KEDA ${'v2.20.2'}`);
    console.log(`time until every actor has queue, workload and ScaledObject (all three conditions True): ${((firstPass ?? allReady) / 1000).toFixed(1)}s`);
    console.log(`time until every actor reports ScalingReady=ScaledObjectReady (KEDA reported the ScaledObject Ready): ${(allReady / 1000).toFixed(1)}s`);
    console.log(`  50% ready at ${((firstReady[Math.floor(ACTORS / 2) - 1] ?? 0) / 1000).toFixed(1)}s, 90% at ${((firstReady[Math.floor(ACTORS * 0.9) - 1] ?? 0) / 1000).toFixed(1)}s  (1 s polling)`);
    console.log('\nAPI writes during creation (apiserver_request_total deltas, groups asya.sh, apps, keda.sh, core):');
    console.log('| verb resource | writes | per actor | writer |');
    console.log('| --- | ---: | ---: | --- |');
    for (const [k, d] of createDeltas) console.log(`| ${k} | ${d} | ${(d / ACTORS).toFixed(2)} | ${writer(k)} |`);
    const oursCreate = createDeltas.filter(([k]) => isOurs(k)).reduce((s, [, d]) => s + d, 0);
    console.log(`| Events of the reconciler (reportingComponent) | ${eventsCreate} | ${(eventsCreate / ACTORS).toFixed(2)} | reconciler |`);
    console.log(`| **reconciler total (rows marked reconciler + its Events)** | ${oursCreate + eventsCreate} | ${((oursCreate + eventsCreate) / ACTORS).toFixed(2)} | |`);
    console.log(`\nidle: ${((Date.now() - idleStart) / 1000).toFixed(0)}s at resyncPeriodSeconds=${RESYNC_S} (${resyncs} periodic resyncs of ${ACTORS} actors)`);
    console.log('| verb resource | writes while idle | writer |');
    console.log('| --- | ---: | --- |');
    for (const [k, d] of idleDeltas) console.log(`| ${k} | ${d} | ${writer(k)} |`);
    const oursIdle = idleDeltas.filter(([k]) => isOurs(k)).reduce((s, [, d]) => s + d, 0);
    console.log(`| Events of the reconciler | ${eventsIdle} | reconciler |`);
    console.log(`| **reconciler total** | ${oursIdle + eventsIdle} | |`);
    if (idleDeltas.length === 0) console.log('(no writes at all in groups asya.sh, apps, keda.sh and core)');
  } finally {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      killChild();
    }
    process.removeListener('exit', killChild);
    await rabbit.destroy();
    await cp.stop();
  }
}
