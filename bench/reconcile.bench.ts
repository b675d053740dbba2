// 500 AsyncActors reconciled from scratch against the in-memory API server and a real RabbitMQ node (started
// here), then idle resyncs of the same 500. The Deployment controller, kubelet and KEDA are simulated
// (test/support/cluster.ts) and their writes are not counted. Figures: time until every actor is Running
// with all conditions True, API writes and broker calls per actor; for the idle resync (median of rounds):
// writes (must be 0), broker calls, wall time and CPU per actor.
import { parseConfig } from '../src/config/load.js';
import { KINDS, type KubeObject } from '../src/kube/client.js';
import { MemoryKubeClient } from '../test/support/memoryKube.js';
import { silentLogger } from '../src/observability/logger.js';
import { KubeEventRecorder } from '../src/reconciler/events.js';
import { Reconciler } from '../src/reconciler/reconcile.js';
import { WorkQueue } from '../src/reconciler/workqueue.js';
import { RabbitmqTransport } from '../src/transports/rabbitmq/client.js';
import { ACTOR_LABEL } from '../src/names.js';
import { kedaScale, settleWorkload } from '../test/support/cluster.js';
import { RabbitNode, rabbitmqAvailable } from '../test/support/rabbitmq.js';

const ACTORS = Number(process.env.BENCH_ACTORS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (n: number, d = 2) => n.toFixed(d);

export async function run(): Promise<void> {
  if (!rabbitmqAvailable()) {
    console.log('skipped: rabbitmq-server not installed (scripts/ci-setup.d/20-rabbitmq.sh)');
    return;
  }
  const node = await RabbitNode.start();
  const logger = silentLogger();
  const client = new MemoryKubeClient();
  const config = parseConfig({
    transports: { rabbitmq: { type: 'rabbitmq', config: { host: '127.0.0.1', port: node.port, passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' }, deadLetter: { enabled: true } } } },
  });
  const t = config.transports.rabbitmq!;
  if (t.type !== 'rabbitmq') throw new Error('unexpected');
  const transport = new RabbitmqTransport('rabbitmq', t.config, logger, { password: () => 'guest' });
  const reconciler = new Reconciler({ client, config, transports: new Map([['rabbitmq', transport]]), runtimeScript: 'print("runtime")\n', logger, events: new KubeEventRecorder(client, logger) });
  const queue = new WorkQueue({
    concurrency: CONCURRENCY,
    handler: (key) => {
      const [ns, name] = key.split('/') as [string, string];
      return reconciler.reconcile(ns, name);
    },
  });
  // The informers: actor, workload and pod events enqueue the actor. The simulated controllers react too.
  client.watch((e) => {
    const o = e.object;
    const ns = o.metadata.namespace ?? 'default';
    if (e.kind === KINDS.actor) queue.add(`${ns}/${o.metadata.name}`);
    else if (e.kind === KINDS.deployment || e.kind === KINDS.pod) {
      const actor = o.metadata.labels?.[ACTOR_LABEL];
      if (actor) queue.add(`${ns}/${actor}`);
      if (e.kind === KINDS.deployment && e.type === 'ADDED') queueMicrotask(() => settleWorkload(client, ns, o.metadata.name ?? ''));
    } else if (e.kind === KINDS.scaledObject && e.type === 'ADDED') {
      queueMicrotask(() => {
        kedaScale(client, ns, o.metadata.name ?? '', 1);
        settleWorkload(client, ns, o.metadata.name ?? '');
      });
    }
  });
  queue.start();
  try {
    const names = Array.from({ length: ACTORS }, (_, i) => `actor-${String(i).padStart(4, '0')}`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const name of names) {
      await client.create(KINDS.actor, {
        apiVersion: 'asya.sh/v1alpha1',
        kind: 'AsyncActor',
        metadata: { name, namespace: `ns-${Number(name.slice(6)) % 10}` },
        spec: { transport: 'rabbitmq', scaling: { enabled: true, minReplicas: 0, maxReplicas: 10 }, workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'example/handler:1' }] } } } },
      } as KubeObject);
    }
    const isActorCreate = (w: { verb: string; kind: string }) => w.verb === 'create' && w.kind === 'AsyncActor';
    const ready = () =>
      client.all<KubeObject & { status?: { status?: string; conditions?: Array<{ status: string }> } }>(KINDS.actor).filter((a) => a.status?.status === 'Running' && a.status.conditions?.every((c) => c.status === 'True')).length;
    while (ready() < ACTORS) {
      await new Promise((r) => setTimeout(r, 20));
      if (performance.now() - t0 > 300_000) throw new Error(`only ${ready()} of ${ACTORS} ready after 300 s`);
    }
    const tReady = performance.now() - t0;
    await queue.idle();
    const cpu1 = process.cpuUsage(cpu0);
    const reconcilerWrites = client.writes().filter((w) => !isActorCreate(w));
    const writes = reconcilerWrites.length;
    const byKind = new Map<string, number>();
    for (const w of reconcilerWrites) byKind.set(`${w.verb} ${w.kind}`, (byKind.get(`${w.verb} ${w.kind}`) ?? 0) + 1);
    console.log(`from scratch: ${ACTORS} actors, concurrency ${CONCURRENCY}, RabbitMQ ${node.port} (queue + DLQ per actor)`);
    console.log(`  time until all Running/Ready: ${fmt(tReady / 1000)} s (${fmt(tReady / ACTORS)} ms per actor), CPU ${fmt((cpu1.user + cpu1.system) / 1000 / ACTORS)} ms per actor`);
    console.log(`  API writes per actor: ${fmt(writes / ACTORS)}  [${[...byKind].map(([k, v]) => `${k}: ${fmt(v / ACTORS)}`).join(', ')}]`);
    console.log(`  broker calls per actor: ${fmt(transport.calls / ACTORS)}`);

    const rounds: Array<{ ms: number; cpu: number; writes: number; calls: number; reads: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      client.resetCalls();
      const calls0 = transport.calls;
      const c0 = process.cpuUsage();
      const s = performance.now();
      for (const name of names) queue.add(`ns-${Number(name.slice(6)) % 10}/${name}`);
      await queue.idle();
      const ms = performance.now() - s;
      const c = process.cpuUsage(c0);
      rounds.push({ ms, cpu: (c.user + c.system) / 1000, writes: client.writes().length, calls: transport.calls - calls0, reads: client.calls.length - client.writes().length });
    }
    const maxWrites = Math.max(...rounds.map((r) => r.writes));
    console.log(`idle resync of ${ACTORS} (median of ${ROUNDS}):`);
    console.log(`  API writes: ${maxWrites} in every round${maxWrites === 0 ? '' : '  <-- SHOULD BE 0'}`);
    console.log(`  time ${fmt(median(rounds.map((r) => r.ms)))} ms (${fmt(median(rounds.map((r) => r.ms)) / ACTORS, 3)} ms per actor), CPU ${fmt(median(rounds.map((r) => r.cpu)) / ACTORS, 3)} ms per actor`);
    console.log(`  API reads per actor: ${fmt(median(rounds.map((r) => r.reads)) / ACTORS)}, broker calls per actor: ${fmt(median(rounds.map((r) => r.calls)) / ACTORS)} (passive queue check)`);
    if (maxWrites !== 0) process.exitCode = 1;
  } finally {
    await queue.shutdown();
    await transport.close();
    await node.destroy();
  }
}
