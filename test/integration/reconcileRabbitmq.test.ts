// The reconciler and its work queue against a real RabbitMQ that is stopped and restarted mid-test:
// TransportReady goes False with the broker's reason and back to True by itself, without a restart of the
// reconciler; deleting the actor deletes its queue on the broker.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import amqp from 'amqplib';
import type { AsyncActor } from '../../src/api/schema.js';
import { KINDS, type KubeObject } from '../../src/kube/client.js';
import { MemoryKubeClient } from '../support/memoryKube.js';
import { Reconciler } from '../../src/reconciler/reconcile.js';
import { WorkQueue } from '../../src/reconciler/workqueue.js';
import { RabbitmqTransport } from '../../src/transports/rabbitmq/client.js';
import { RabbitNode } from '../support/rabbitmq.js';
import { createActor, logger, makeActor, makeConfig } from '../support/fixtures.js';

let node: RabbitNode;
beforeAll(async () => {
  node = await RabbitNode.start();
}, 120_000);
afterAll(async () => {
  await node?.destroy();
}, 60_000);

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('reports the broker going away and coming back, and deletes the queue with the actor', async () => {
  const client = new MemoryKubeClient();
  const config = makeConfig({ rabbitPort: node.port });
  const tc = config.transports.rabbitmq!;
  if (tc.type !== 'rabbitmq') throw new Error('unexpected');
  const transport = new RabbitmqTransport('rabbitmq', tc.config, logger, { password: () => 'guest', connectTimeoutMs: 2000 });
  const reconciler = new Reconciler({ client, config, transports: new Map([['rabbitmq', transport]]), runtimeScript: '#', logger });
  const queue = new WorkQueue({ concurrency: 2, baseDelayMs: 200, maxDelayMs: 2000, handler: (k) => reconciler.reconcile('default', k.split('/')[1]!) });
  const unwatch = client.watch((e) => {
    if (e.kind === KINDS.actor) queue.add(`default/${e.object.metadata.name}`);
  });
  queue.start();
  const transportCond = () => client.peek<AsyncActor & KubeObject>(KINDS.actor, 'default', 'live')?.status?.conditions?.find((c) => c.type === 'TransportReady');
  try {
    await createActor(client, makeActor('live'));
    await until('TransportReady=True', () => transportCond()?.status === 'True');
    const conn = await amqp.connect(node.url);
    const ch = await conn.createChannel();
    expect((await ch.checkQueue('asya-live')).queue).toBe('asya-live');
    await conn.close();

    await node.stop();
    // The next resync (any event would do) finds the broker gone.
    queue.add('default/live');
    await until('TransportReady=False', () => transportCond()?.status === 'False');
    expect(transportCond()).toMatchObject({ reason: 'BrokerUnreachable' });
    expect(client.peek<AsyncActor & KubeObject>(KINDS.actor, 'default', 'live')?.status?.status).toBe('TransportError');

    await node.restart();
    // No event from us: the work queue's backoff retries and the actor recovers by itself.
    await until('TransportReady=True again', () => transportCond()?.status === 'True', 60_000);

    await client.delete(KINDS.actor, 'default', 'live');
    await until('actor gone', () => client.peek(KINDS.actor, 'default', 'live') === undefined);
    const conn2 = await amqp.connect(node.url);
    const ch2 = await conn2.createChannel();
    ch2.on('error', () => undefined);
    await expect(ch2.checkQueue('asya-live')).rejects.toMatchObject({ code: 404 });
    await conn2.close().catch(() => undefined);
  } finally {
    unwatch();
    await queue.shutdown();
    await transport.close();
  }
}, 240_000);
