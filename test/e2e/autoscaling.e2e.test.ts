// Autoscaling as the seeds promise it, past one replica: KEDA's operator and its metrics adapter (behind the API
// server's aggregation layer, APIService v1beta1.external.metrics.k8s.io), kube-controller-manager's HPA
// controller reading the external metric, pods of the real sidecar and runtime on the node consuming a real
// RabbitMQ queue. Each message is held by the handler (node/handlers/scaling.py) until the test releases it, so
// the depth KEDA sees is the one published while replicas come up; released, the sidecars drain the queue.
//
// With queueLength 5 KEDA asks for ceil(ready / 5) replicas (ready = messages not yet delivered; each pod holds
// one): 20 messages -> 4 (16 ready once 4 pods hold theirs: still 4); 60 -> 12, capped at maxReplicas 10.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import amqp from 'amqplib';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildCrd } from '../../src/api/crd.js';
import { RabbitNode, queueDepth } from '../support/rabbitmq.js';
import { actor, asyasWide, envelope, podsOf, publish, readyPodsOf, runtime, waitStatus, type Envelope } from './support/actors.js';
import { applyObjects, deleteNamespaces, getJson, kubectl, kubectlOk, node, waitFor } from './support/cluster.js';
import { startOperatorOnHost, type HostOperator } from './support/operator.js';

const RELEASE = 'asyascale';
const SYSTEM_NS = 'asyascale-system';
const NS = 'e2e-scaling';
const VHOST = 'asya-scaling';

let rabbit: RabbitNode;
let op: HostOperator;
let amqpConn: amqp.ChannelModel;

/** Keys the handlers poll at http://<node ip>:<port>/release/<key>: 404 until released, then 200. */
const released = new Set<string>();
let releaseServer: http.Server;
let releaseBase: string;

const held = (key: string, n: number, from = 0): Envelope[] =>
  Array.from({ length: n }, (_, i) => envelope(`${key}-${from + i}`, [key.split('/')[0]!], { n: from + i, release: `${releaseBase}/release/${key}` }));

/** The quick scaling of every test actor: KEDA polls every second, scales to zero 5 s after the queue is empty. */
const scaling = (extra: Record<string, unknown> = {}) => ({ enabled: true, minReplicas: 0, maxReplicas: 10, queueLength: 5, pollingInterval: 1, cooldownPeriod: 5, ...extra });
const holder = (name: string, spec: Record<string, unknown> = {}, workload: Record<string, unknown> = {}) =>
  actor(NS, name, {
    timeout: { processing: 300, gracefulShutdown: 30 },
    ...spec,
    workload: {
      ...workload,
      template: { spec: { containers: [runtime('scaling.hold', { resources: { requests: { cpu: '10m', memory: '32Mi' } } })] } },
    },
  });

const hpaOf = (name: string) => getJson(['hpa', '-n', NS, `keda-hpa-${name}`]);
const wideRow = async (name: string): Promise<Record<string, string>> => {
  const r = (await asyasWide(NS)).find((x) => x.NAME === name);
  if (!r) throw new Error(`no row for ${name} in kubectl get asyas -o wide`);
  return r;
};
const replicasOf = async (kind: string, name: string): Promise<number> => (await getJson([kind, '-n', NS, name])).spec.replicas ?? 1;

/** Waits for exactly `n` Ready pods of the actor and the HPA wanting `n`; returns the HPA. */
async function scaledTo(name: string, n: number, timeoutMs = 120_000): Promise<any> {
  return waitFor(`${name}: ${n} Ready pods and KEDA's HPA desiring ${n}`, async () => {
    const [pods, hpa] = await Promise.all([readyPodsOf(NS, name), hpaOf(name)]);
    return pods.length === n && hpa.status?.desiredReplicas === n ? hpa : undefined;
  }, timeoutMs, 500);
}

/** The external metric of the actor's HPA, read as the HPA controller reads it (through the aggregation layer). */
async function externalMetric(name: string): Promise<number> {
  const hpa = await hpaOf(name);
  const m = hpa.spec.metrics[0].external.metric;
  const selector = Object.entries(m.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
  const raw = await kubectlOk(['get', '--raw', `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/${m.name}?labelSelector=${encodeURIComponent(selector)}`]);
  const items = JSON.parse(raw).items as Array<{ value: string }>;
  const v = items[0]?.value ?? '';
  // Quantities: "2", "7500m".
  return v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v);
}

async function releaseAndDrain(name: string, keys: string[], total: number, kind = 'deployment'): Promise<void> {
  const before = (await queueDepth(amqpConn, 'asya-happy-end')) ?? 0;
  for (const k of keys) released.add(k);
  // Drained by the sidecars: every held message was processed and its result forwarded to happy-end.
  await waitFor(`${total} results of ${name} in asya-happy-end`, async () => ((await queueDepth(amqpConn, 'asya-happy-end')) ?? 0) - before >= total, 120_000, 500);
  expect(await queueDepth(amqpConn, `asya-${name}`)).toBe(0);
  // Back to zero after the cooldown: KEDA scales the workload to 0; the actor naps.
  await waitStatus(NS, name, (r) => r.status === 'Napping' && r.running === 0, 'Napping with 0 pods', 120_000);
  expect(await replicasOf(kind, name)).toBe(0);
  await waitFor(`${name}'s pods to be gone`, async () => (await podsOf(NS, name)).length === 0, 90_000, 500);
}

beforeAll(async () => {
  releaseServer = http.createServer((req, res) => {
    const key = /^\/release\/(.+)$/.exec(req.url ?? '')?.[1];
    res.writeHead(key && released.has(decodeURIComponent(key)) ? 200 : 404).end();
  });
  await new Promise<void>((r) => releaseServer.listen(0, node.ip, () => r()));
  releaseBase = `http://${node.ip}:${(releaseServer.address() as AddressInfo).port}`;

  rabbit = await RabbitNode.start({ alsoListenOn: node.ip, vhost: VHOST });
  amqpConn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${rabbit.port}/${VHOST}`);
  amqpConn.on('error', () => undefined);
  await applyObjects([buildCrd()]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  await applyObjects([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: NS }, stringData: { username: 'guest', password: 'guest' } }]);
  op = await startOperatorOnHost({
    release: RELEASE,
    namespace: SYSTEM_NS,
    values: {
      'transports.rabbitmq.config.host': node.ip,
      'transports.rabbitmq.config.port': rabbit.port,
      'transports.rabbitmq.config.vhost': VHOST,
      'sidecar.image': node.images.sidecar,
      // Ten replicas and more on a 2-core node: small requests.
      'sidecar.defaultResources.requests.cpu': '10m',
      'sidecar.defaultResources.requests.memory': '16Mi',
    },
    configure: (cfg) => (cfg.runtime.scriptPath = join(node.upstreamDir, 'src', 'asya-runtime', 'asya_runtime.py')),
  });
}, 300_000);

afterAll(async () => {
  for (const k of ['burst/1', 'burst/2', 'gated/1', 'gated/2', 'ordered/1']) released.add(k);
  await kubectl(['delete', 'asyncactors', '--all', '-n', NS, '--wait=true', '--timeout=90s'], { timeoutMs: 120_000 });
  await op?.stop();
  await deleteNamespaces([NS, SYSTEM_NS]);
  await amqpConn?.close().catch(() => undefined);
  await rabbit?.destroy();
  await new Promise<void>((r) => (releaseServer ? releaseServer.close(() => r()) : r()));
}, 180_000);

test("the external metrics API is served by KEDA's adapter through the aggregation layer", async () => {
  const svc = await getJson(['apiservice', 'v1beta1.external.metrics.k8s.io']);
  expect(svc.spec.service).toMatchObject({ namespace: 'keda', name: 'keda-metrics-apiserver' });
  expect(svc.status.conditions.find((c: any) => c.type === 'Available')).toMatchObject({ status: 'True' });
  const list = JSON.parse(await kubectlOk(['get', '--raw', '/apis/external.metrics.k8s.io/v1beta1']));
  expect(list.resources.map((r: any) => r.name)).toContain('externalmetrics');
});

describe('a Deployment actor, queueLength 5, maxReplicas 10', () => {
  beforeAll(async () => {
    await applyObjects([holder('burst', { scaling: scaling() })], { serverSide: false });
    await waitStatus(NS, 'burst', (r) => r.status === 'Napping', 'Napping');
  }, 120_000);

  test('20 messages -> 4 pods Running on the node; DESIRED 4, LAST-SCALE up', async () => {
    const t0 = Date.now();
    await publish(amqpConn, ...held('burst/1', 20));
    const hpa = await scaledTo('burst', 4);
    process.stderr.write(`autoscaling: first message -> 4 Ready replicas in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    // The HPA computed it from the external metric: queue depth against the target of 5 per replica.
    expect(hpa.spec.metrics[0]).toMatchObject({ type: 'External', external: { target: { type: 'AverageValue', averageValue: '5' } } });
    expect(hpa.status.conditions.find((c: any) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(await replicasOf('deployment', 'burst')).toBe(4);
    for (const p of await readyPodsOf(NS, 'burst')) expect(p.spec.nodeName).toBe(node.name);
    const r = await waitFor('DESIRED 4 in kubectl get asyas -o wide', async () => {
      const x = await wideRow('burst');
      return x.DESIRED === '4' && x.RUNNING === '4' ? x : undefined;
    }, 60_000, 500);
    expect(r).toMatchObject({ STATUS: 'Running', MAX: '10', DIRECTION: 'up' });
    expect(r['LAST-SCALE']).toMatch(/^\d+(s|m\d*s?)$/);
  }, 180_000);

  test('60 messages -> capped at maxReplicas 10 (KEDA asks for 12), all Running', async () => {
    const node0 = await getJson(['node', node.name]);
    // The node has room for ten more pods of these requests (10m + 10m CPU each).
    expect(Number(node0.status.allocatable.pods)).toBeGreaterThanOrEqual(20);
    await publish(amqpConn, ...held('burst/2', 40, 20));
    const hpa = await scaledTo('burst', 10);
    const limited = hpa.status.conditions.find((c: any) => c.type === 'ScalingLimited');
    expect(limited).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
    // What KEDA reports (not yet delivered messages; 60 minus the 10 the pods hold) is above 10 x 5.
    expect(await externalMetric('burst')).toBeGreaterThan(50 - 1);
    const r = await waitFor('DESIRED 10 in kubectl get asyas -o wide', async () => {
      const x = await wideRow('burst');
      return x.DESIRED === '10' && x.RUNNING === '10' ? x : undefined;
    }, 60_000, 500);
    expect(r).toMatchObject({ STATUS: 'Running', DIRECTION: 'up' });
  }, 180_000);

  test('released, the real sidecars drain the queue -> 0 replicas after the cooldown, Napping, LAST-SCALE down', async () => {
    await releaseAndDrain('burst', ['burst/1', 'burst/2'], 60);
    const r = await waitFor('DIRECTION down', async () => {
      const x = await wideRow('burst');
      return x.DIRECTION === 'down' ? x : undefined;
    }, 60_000, 500);
    expect(r).toMatchObject({ STATUS: 'Napping', RUNNING: '0', DESIRED: '0' });
    const a = await getJson(['asyncactors', '-n', NS, 'burst']);
    expect(Date.parse(a.status.lastScaleTime)).toBeGreaterThan(Date.now() - 120_000);
  }, 240_000);
});

describe('scaling.advanced: formula and activationTarget, as KEDA documents them', () => {
  // scalingModifiers: the HPA reads the formula's value (queueLength / 4) against target 2, so replicas =
  // ceil(ready / 8); KEDA activates from zero only when that value exceeds activationTarget 5 (over 20 ready).
  const advanced = { formula: 'queueLength / 4', target: '2', activationTarget: '5' };

  beforeAll(async () => {
    await applyObjects([holder('gated', { scaling: scaling({ advanced }) })], { serverSide: false });
    await waitStatus(NS, 'gated', (r) => r.status === 'Napping', 'Napping');
    const so = await getJson(['scaledobject', '-n', NS, 'gated']);
    expect(so.spec.advanced.scalingModifiers).toMatchObject(advanced);
  }, 120_000);

  test('8 messages: the formula gives 2, not above activationTarget 5: still 0 replicas', async () => {
    await publish(amqpConn, ...held('gated/1', 8));
    // KEDA computes the composite metric from the queue (read through the metrics API, as the HPA would).
    await waitFor('the composite metric at 8 / 4 = 2', async () => (await externalMetric('gated')) === 2, 60_000, 500);
    // KEDA has computed it (it answered the metric) and did not activate: Active is not True (False, or
    // Unknown as long as it never was), and nothing was scaled.
    const so = await getJson(['scaledobject', '-n', NS, 'gated']);
    expect(so.status.conditions.find((c: any) => c.type === 'Active')?.status).not.toBe('True');
    expect(await replicasOf('deployment', 'gated')).toBe(0);
    expect(await podsOf(NS, 'gated')).toHaveLength(0);
  }, 120_000);

  test('30 messages: 7.5 > 5 activates it, and the formula gives ceil(7.5 / 2) = 4 replicas, not the 6 of queueLength 5', async () => {
    await publish(amqpConn, ...held('gated/2', 22, 8));
    await scaledTo('gated', 4);
    const so = await getJson(['scaledobject', '-n', NS, 'gated']);
    expect(so.status.conditions.find((c: any) => c.type === 'Active')).toMatchObject({ status: 'True' });
    await releaseAndDrain('gated', ['gated/1', 'gated/2'], 30);
  }, 240_000);
});

describe('a StatefulSet actor', () => {
  test('15 messages -> 3 pods (ordered, capped at maxReplicas 3), then back to 0', async () => {
    await applyObjects([holder('ordered', { scaling: scaling({ maxReplicas: 3 }) }, { kind: 'StatefulSet' })], { serverSide: false });
    await waitStatus(NS, 'ordered', (r) => r.status === 'Napping', 'Napping');
    await publish(amqpConn, ...held('ordered/1', 15));
    await scaledTo('ordered', 3);
    expect((await readyPodsOf(NS, 'ordered')).map((p) => p.metadata.name).sort()).toEqual(['ordered-0', 'ordered-1', 'ordered-2']);
    expect(await replicasOf('statefulset', 'ordered')).toBe(3);
    const r = await waitFor('DESIRED 3', async () => {
      const x = await wideRow('ordered');
      return x.DESIRED === '3' ? x : undefined;
    }, 60_000, 500);
    expect(r).toMatchObject({ WORKLOAD: 'StatefulSet', DIRECTION: 'up' });
    await releaseAndDrain('ordered', ['ordered/1'], 15, 'statefulset');
    expect((await wideRow('ordered')).DIRECTION).toBe('down');
  }, 300_000);
});
