// Messages really flow: actors applied with kubectl, KEDA scaling them from zero, the scheduler and a real kubelet
// running their pods with the sidecar and runtime our webhook injects, upstream's sidecar and runtime
// (../shared/upstream-asya) in those pods, the runtime script in ConfigMap asya-runtime from upstream's
// asya_runtime.py through the reconciler's configuration, upstream's end actors (asya-crew) at the end, and a
// real RabbitMQ and moto. The outcome is read where a client reads it: the final report the end actors'
// sidecars send to the gateway (support/gateway.ts records it), and `kubectl get asyas`.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import { join } from 'node:path';
import { buildCrd } from '../../src/api/crd.js';
import { MotoServer } from '../support/moto.js';
import { RabbitNode } from '../support/rabbitmq.js';
import { actor, endActor, envelope, pipeline, podsOf, publish as publishTo, runtime, scaled, waitStatus, watchStatus, type Envelope } from './support/actors.js';
import { applyObjects, deleteNamespaces, getJson, kubectl, kubectlOk, node, waitFor } from './support/cluster.js';
import { startGateway, type Gateway } from './support/gateway.js';
import { startOperatorOnHost, type HostOperator } from './support/operator.js';

const RELEASE = 'asyaflow';
const SYSTEM_NS = 'asyaflow-system';
/** RabbitMQ actors, and the RabbitMQ end actors every RabbitMQ actor routes to (queue names are global). */
const NS = 'e2e-flow';
/** The same pipeline over SQS, with its own end actors (another transport, so the same names are allowed). */
const NS_SQS = 'e2e-flow-sqs';
/** Actors whose pods get the native sidecar (the webhook restarted with sidecar.native: true). */
const NS_NATIVE = 'e2e-flow-native';
/** RabbitMQ virtual host of the whole test: the sidecars reach it only through the URL we build. */
const VHOST = 'asya-flows';

let rabbit: RabbitNode;
let moto: MotoServer;
let gateway: Gateway;
let op: HostOperator;
let amqpConn: amqp.ChannelModel;
let sqs: SQSClient;

/** What a client does: publish to the exchange with the first actor's name as routing key. */
const publish = (env: Envelope): Promise<void> => publishTo(amqpConn, env);

async function sendSqs(env: Envelope): Promise<void> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `asya-${env.route.actors[0]}` }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(env) }));
}

beforeAll(async () => {
  [rabbit, moto, gateway] = await Promise.all([
    RabbitNode.start({ alsoListenOn: node.ip, vhost: VHOST }),
    MotoServer.start({ host: node.ip }),
    startGateway(node.ip),
  ]);
  amqpConn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${rabbit.port}/${VHOST}`);
  amqpConn.on('error', () => undefined);
  sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  await applyObjects([buildCrd()]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
  for (const ns of [NS, NS_SQS, NS_NATIVE]) {
    await kubectl(['create', 'namespace', ns]);
    // As a user creates them: the broker credentials for the sidecars and KEDA.
    await applyObjects([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: ns }, stringData: { username: 'guest', password: 'guest' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-credentials', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    ]);
  }

  op = await startOperatorOnHost({
    release: RELEASE,
    namespace: SYSTEM_NS,
    values: {
      // Brokers on the node's gateway address: the one address of this machine that pods reach.
      'transports.rabbitmq.config.host': node.ip,
      'transports.rabbitmq.config.port': rabbit.port,
      'transports.rabbitmq.config.vhost': VHOST,
      'transports.rabbitmq.config.usernameSecretRef.name': 'rabbitmq-secret',
      'transports.rabbitmq.config.usernameSecretRef.key': 'username',
      'transports.sqs.enabled': true,
      'transports.sqs.config.endpoint': moto.endpoint,
      'transports.sqs.config.queueBaseURL': `${moto.endpoint}/123456789012`,
      'transports.sqs.config.credentialsSecretRef.name': 'aws-credentials',
      'sidecar.image': node.images.sidecar,
      'sidecar.logLevel': 'debug',
      gatewayURL: gateway.url,
    },
    reconcilerEnv: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
    // The runtime script of upstream, where the chart's runtime.source=local would mount it.
    configure: (cfg) => (cfg.runtime.scriptPath = join(node.upstreamDir, 'src', 'asya-runtime', 'asya_runtime.py')),
  });
}, 300_000);

afterAll(async () => {
  for (const ns of [NS, NS_SQS, NS_NATIVE]) await kubectl(['delete', 'asyncactors', '--all', '-n', ns, '--wait=true', '--timeout=90s'], { timeoutMs: 120_000 });
  await op?.stop();
  await deleteNamespaces([NS, NS_SQS, NS_NATIVE, SYSTEM_NS]);
  await amqpConn?.close().catch(() => undefined);
  sqs?.destroy();
  await Promise.all([rabbit?.destroy(), moto?.stop(), gateway?.stop()]);
}, 180_000);

describe('the transport contract, before any actor exists', () => {
  test('the end queues exist on every enabled transport: no message can be redelivered without end', async () => {
    for (const q of ['asya-happy-end', 'asya-error-end']) {
      await waitFor(`RabbitMQ queue ${q} on vhost ${VHOST}`, async () => {
        const ch = await amqpConn.createChannel();
        ch.on('error', () => undefined);
        try {
          return (await ch.checkQueue(q)) !== undefined;
        } catch {
          return false;
        } finally {
          await ch.close().catch(() => undefined);
        }
      }, 30_000, 500);
      await waitFor(`SQS queue ${q}`, async () => !!(await sqs.send(new GetQueueUrlCommand({ QueueName: q })).catch(() => undefined))?.QueueUrl, 30_000, 500);
    }
  });
});

describe('a pipeline over RabbitMQ', () => {
  beforeAll(async () => {
    await applyObjects([endActor(NS, 'happy', 'rabbitmq'), endActor(NS, 'error', 'rabbitmq'), ...pipeline(NS, 'rabbitmq')], { serverSide: false });
    for (const end of ['happy-end', 'error-end']) await waitStatus(NS, end, (r) => r.status === 'Running' && r.running === 1, 'Running with 1 pod');
  }, 180_000);

  test('an envelope published to the exchange scales a from zero, runs a then b, and its result reaches happy-end', async () => {
    // a waits, scaled to zero.
    await waitStatus(NS, 'a', (r) => r.status === 'Napping' && r.running === 0, 'Napping');
    expect(await podsOf(NS, 'a')).toHaveLength(0);
    const watch = watchStatus(NS, 'a');
    await publish(envelope('rmq-1', ['a', 'b'], { n: 1 }));
    const final = await gateway.final('rmq-1', 150_000);
    expect(final).toMatchObject({ id: 'rmq-1', status: 'succeeded', result: { n: 1, seen: ['a', 'b'] } });
    // Each actor reported its part to the gateway on the way (its sidecar, with the route the runtime advanced).
    const statuses = (gateway.progress.get('rmq-1') ?? []).map((p) => `${p.actors?.[p.current_actor_idx ?? -1] ?? '?'}:${p.status}`);
    expect(statuses).toEqual(expect.arrayContaining(['a:received', 'b:received']));

    // `kubectl get asyas` told the truth on the way: a pod being created, one running, and back to napping.
    await waitStatus(NS, 'a', (r) => r.status === 'Napping' && r.running === 0, 'Napping again after the cooldown', 120_000);
    const stages = await watch.stop();
    const names = stages.map((s) => s.status);
    process.stderr.write(`STATUS of a: ${stages.map((s) => `${s.status}/${s.running}`).join(' -> ')}\n`);
    expect(names[0]).toBe('Napping');
    expect(names).toContain('Creating');
    expect(stages.some((s) => s.status === 'Running' && s.running === 1)).toBe(true);
    expect(names.indexOf('Creating')).toBeLessThan(names.indexOf('Running'));
    expect(names.lastIndexOf('Napping')).toBeGreaterThan(names.indexOf('Running'));
    const table = await kubectlOk(['get', 'asyas', '-n', NS, 'a']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+RUNNING\s+PENDING\s+FAILING/);
    expect(table.split('\n')[1]).toMatch(/^a\s+Napping\s+0\s+0\s+0/);
  }, 300_000);

  test("a raising handler's envelope reaches error-end with the error", async () => {
    await publish(envelope('rmq-boom', ['boom', 'b'], { n: 2 }));
    const final = await gateway.final('rmq-boom', 150_000);
    expect(final).toMatchObject({ id: 'rmq-boom', status: 'failed', current_actor_name: 'boom' });
    expect(final.error).toBeTruthy();
    expect(JSON.stringify(final)).toContain('boom: cannot handle 2');
    // b never saw it.
    expect(gateway.progress.get('rmq-boom')?.some((p) => p.actors?.[p.current_actor_idx ?? -1] === 'b')).toBeFalsy();
  }, 300_000);

  test('the injected probes pass: the pods of the end actors are Ready, with both containers running', async () => {
    for (const end of ['happy-end', 'error-end']) {
      const [pod] = await podsOf(NS, end);
      expect(pod.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
      expect(pod.status.containerStatuses.map((c: any) => [c.name, c.ready, !!c.state.running]).sort()).toEqual([
        ['asya-runtime', true, true],
        ['asya-sidecar', true, true],
      ]);
      // Upstream's runtime script, from the ConfigMap the reconciler wrote.
      const cm = await getJson(['configmap', '-n', NS, 'asya-runtime']);
      expect(cm.data['asya_runtime.py']).toContain('Asya Actor Runtime');
    }
  });
});

describe('a pipeline over SQS', () => {
  beforeAll(async () => {
    await applyObjects([endActor(NS_SQS, 'happy', 'sqs'), endActor(NS_SQS, 'error', 'sqs'), ...pipeline(NS_SQS, 'sqs', 's')], { serverSide: false });
    for (const end of ['happy-end', 'error-end']) await waitStatus(NS_SQS, end, (r) => r.status === 'Running' && r.running === 1, 'Running with 1 pod');
  }, 180_000);

  test('an envelope sent to the queue of sa runs sa then sb, and its result reaches happy-end', async () => {
    await waitStatus(NS_SQS, 'sa', (r) => r.status === 'Napping', 'Napping');
    await sendSqs(envelope('sqs-1', ['sa', 'sb'], { n: 3 }));
    // The stages append their own names, whatever the actor is called.
    expect(await gateway.final('sqs-1', 180_000)).toMatchObject({ id: 'sqs-1', status: 'succeeded', result: { n: 3, seen: ['a', 'b'] } });
  }, 300_000);

  test('a failure reaches the SQS error-end', async () => {
    await sendSqs(envelope('sqs-boom', ['sboom'], { n: 4 }));
    const final = await gateway.final('sqs-boom', 180_000);
    expect(final).toMatchObject({ status: 'failed', current_actor_name: 'sboom' });
    expect(JSON.stringify(final)).toContain('boom: cannot handle 4');
  }, 300_000);
});

describe('kubectl get asyas names what is broken', () => {
  const fixed = (name: string, containers: unknown[], spec: Record<string, unknown> = {}) =>
    actor(NS, name, { workload: { replicas: 1, template: { spec: { containers } } }, ...spec });

  test('an image that does not exist: ImagePullError, FAILING 1', async () => {
    await applyObjects([fixed('ghost', [{ ...runtime('flow.stage_a'), image: 'registry.invalid/asya/ghost:1' }])], { serverSide: false });
    const r = await waitStatus(NS, 'ghost', (x) => x.status === 'ImagePullError', 'ImagePullError');
    expect(r).toMatchObject({ failing: 1, running: 0 });
  }, 120_000);

  test('a runtime that exits (its handler cannot be imported): RuntimeError once the kubelet reports CrashLoopBackOff', async () => {
    await applyObjects([fixed('crash', [runtime('no_such_module.process')])], { serverSide: false });
    await waitStatus(NS, 'crash', (x) => x.status === 'RuntimeError' && x.failing === 1, 'RuntimeError', 120_000);
    const a = await getJson(['asyncactors', '-n', NS, 'crash']);
    expect(a.status.conditions.find((c: any) => c.type === 'WorkloadReady').message).toMatch(/container asya-runtime of pod crash-.*: CrashLoopBackOff/);
  }, 150_000);

  test('a sidecar that cannot reach the broker: SidecarError', async () => {
    const deaf = fixed('deaf', [runtime('flow.stage_a')], { sidecar: { env: [{ name: 'ASYA_RABBITMQ_URL', value: `amqp://guest:guest@${node.ip}:1/` }] } });
    await applyObjects([deaf], { serverSide: false });
    await waitStatus(NS, 'deaf', (x) => x.status === 'SidecarError' && x.failing === 1, 'SidecarError', 150_000);
  }, 180_000);

  afterAll(async () => {
    await kubectl(['delete', 'asyncactors', '-n', NS, 'ghost', 'crash', 'deaf', '--wait=true', '--timeout=60s']);
  }, 90_000);
});

describe('native sidecar (sidecar.native: true)', () => {
  beforeAll(async () => {
    // The webhook restarted with the native mode on: the sidecar becomes the last init container.
    await op.webhook.stop();
    op.webhook.setConfig(op.hostConfig((c) => (c.sidecar.native = true)));
    await op.webhook.start();
    await applyObjects(
      [
        actor(NS_NATIVE, 'na', { scaling: scaled, workload: { template: { spec: { containers: [runtime('flow.stage_a')] } } } }),
        actor(NS_NATIVE, 'slow', {
          timeout: { processing: 60, gracefulShutdown: 60 },
          workload: { replicas: 1, template: { spec: { containers: [runtime('flow.slow')] } } },
        }),
      ],
      { serverSide: false },
    );
  }, 120_000);

  afterAll(async () => {
    await op.webhook.stop();
    op.webhook.setConfig(op.hostConfig());
    await op.webhook.start();
  }, 60_000);

  test('the same chain works', async () => {
    // Published before its queue is bound, a message would be dropped by the exchange: wait for the actor.
    await waitStatus(NS_NATIVE, 'na', (r) => r.status === 'Napping', 'Napping');
    await publish(envelope('native-1', ['na'], { n: 5 }));
    expect(await gateway.final('native-1', 150_000)).toMatchObject({ status: 'succeeded', result: { n: 5, seen: ['a'] } });
    // The pod that did it (still there: the cooldown is 15 s) has the sidecar as its native init container.
    const [pod] = await podsOf(NS_NATIVE, 'na');
    expect(pod.spec.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['asya-sidecar', 'Always']]);
    expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['asya-runtime']);
  }, 200_000);

  test('a pod scaled down mid-message finishes that message within its grace period', async () => {
    await waitStatus(NS_NATIVE, 'slow', (r) => r.status === 'Running' && r.running === 1, 'Running');
    const [pod] = await podsOf(NS_NATIVE, 'slow');
    expect(pod.spec.terminationGracePeriodSeconds).toBe(60);
    await publish(envelope('slow-1', ['slow'], { n: 6, seconds: 8 }));
    await waitFor('the slow handler to start', async () => (await kubectl(['logs', '-n', NS_NATIVE, pod.metadata.name, '-c', 'asya-runtime'])).stdout.includes('slow: started 6'), 60_000, 500);
    // Scale down while the message is in flight.
    await kubectlOk(['patch', 'asyncactors', '-n', NS_NATIVE, 'slow', '--type=merge', '-p', JSON.stringify({ spec: { workload: { replicas: 0 } } })]);
    await waitFor('the pod to be deleted', async () => (await getJson(['pod', '-n', NS_NATIVE, pod.metadata.name]).catch(() => undefined))?.metadata?.deletionTimestamp, 30_000, 250);
    const final = await gateway.final('slow-1', 60_000);
    expect(final).toMatchObject({ status: 'succeeded', result: { n: 6, slow: 'finished', pod: pod.metadata.name } });
    await waitFor('the pod to be gone', async () => (await kubectl(['get', 'pod', '-n', NS_NATIVE, pod.metadata.name])).code !== 0, 60_000, 500);
  }, 200_000);
});
