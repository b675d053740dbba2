// The RabbitMQ transport against a real broker started for this file.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp from 'amqplib';
import { RabbitmqTransport } from '../../src/transports/rabbitmq/client.js';
import { TransportError } from '../../src/transports/types.js';
import type { RabbitmqConfig } from '../../src/transports/rabbitmq/config.js';
import { RabbitNode } from '../support/rabbitmq.js';
import { logger, makeConfig } from '../support/fixtures.js';

let node: RabbitNode;
beforeAll(async () => {
  node = await RabbitNode.start();
}, 120_000);
afterAll(async () => {
  await node?.destroy();
}, 60_000);

function rabbitConfig(extra: Record<string, unknown> = {}): RabbitmqConfig {
  const t = makeConfig({ rabbitPort: node.port, rabbit: extra }).transports.rabbitmq!;
  if (t.type !== 'rabbitmq') throw new Error('unexpected');
  return t.config;
}

const spec = (actor: string) => ({ name: `asya-${actor}`, actorName: actor, actorNamespace: 'default' });

async function withRaw<T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(node.url);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    return await fn(ch);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

describe('RabbitmqTransport', () => {
  it('declares a durable queue with its dead-letter queue and the exchange binding', async () => {
    // The exchange is not configured: the default is the sidecar's own, asya.
    const t = new RabbitmqTransport('rabbitmq', rabbitConfig({ deadLetter: { enabled: true } }), logger, { password: () => 'guest' });
    try {
      await t.ensureQueue(spec('echo'));
      await t.ensureQueue(spec('echo')); // idempotent
      await withRaw(async (ch) => {
        // Routed through the exchange with the key the upstream sidecar publishes with: the actor name.
        ch.publish('asya', 'echo', Buffer.from('hello'), { persistent: true });
        await new Promise((r) => setTimeout(r, 200));
        const msg = await ch.get('asya-echo');
        expect(msg && msg.content.toString()).toBe('hello');
        // Rejected without requeue: dead-lettered to asya-echo-dlq by the queue's arguments.
        if (msg) ch.reject(msg, false);
        await new Promise((r) => setTimeout(r, 200));
        const dead = await ch.get('asya-echo-dlq');
        expect(dead && dead.content.toString()).toBe('hello');
        if (dead) ch.ack(dead);
      });
      // Durable with exactly these arguments: a declaration without them is refused (406).
      await expect(withRaw((ch) => ch.assertQueue('asya-echo', { durable: true }))).rejects.toMatchObject({ code: 406 });
      await expect(withRaw((ch) => ch.assertQueue('asya-echo', { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'asya-echo-dlq' } }))).rejects.toMatchObject({ code: 406 });
    } finally {
      await t.close();
    }
  });

  it('binds with the actor name, on a configured exchange, and removes the old binding keyed asya-<name>', async () => {
    // A queue bound the way upstream's operator (and this one before) binds it: key = queue name. The sidecar
    // never publishes with that key, so everything sent to the actor was dropped by the broker.
    await withRaw(async (ch) => {
      await ch.assertExchange('flows', 'topic', { durable: true });
      await ch.assertQueue('asya-legacy', { durable: true });
      await ch.bindQueue('asya-legacy', 'flows', 'asya-legacy');
      // What the sidecar does: publish with the routing key "legacy".
      ch.publish('flows', 'legacy', Buffer.from('lost'), { persistent: true });
      await new Promise((r) => setTimeout(r, 200));
      expect(await ch.get('asya-legacy')).toBe(false);
    });
    const t = new RabbitmqTransport('rabbitmq', rabbitConfig({ exchange: 'flows' }), logger, { password: () => 'guest' });
    try {
      await t.ensureQueue(spec('legacy'));
      await withRaw(async (ch) => {
        ch.publish('flows', 'legacy', Buffer.from('found'), { persistent: true });
        // Meant for an actor named asya-legacy (queue asya-asya-legacy): no longer lands in asya-legacy.
        ch.publish('flows', 'asya-legacy', Buffer.from('not mine'), { persistent: true });
        await new Promise((r) => setTimeout(r, 200));
        const msg = await ch.get('asya-legacy', { noAck: true });
        expect(msg && msg.content.toString()).toBe('found');
        expect(await ch.get('asya-legacy')).toBe(false);
      });
    } finally {
      await t.close();
    }
  });

  it('reports depth, treats a missing queue as undefined, and deletes queue and DLQ', async () => {
    const t = new RabbitmqTransport('rabbitmq', rabbitConfig({ deadLetter: { enabled: true } }), logger, { password: () => 'guest' });
    try {
      expect(await t.stats(spec('depth'))).toBeUndefined();
      expect(await t.queueExists(spec('depth'))).toBe(false);
      await t.ensureQueue(spec('depth'));
      await withRaw(async (ch) => {
        for (let i = 0; i < 3; i++) ch.sendToQueue('asya-depth', Buffer.from(String(i)));
        await new Promise((r) => setTimeout(r, 200));
      });
      expect(await t.stats(spec('depth'))).toEqual({ queued: 3 });
      // The 404s above closed channels; the transport still works on fresh ones.
      expect(await t.queueExists(spec('depth'))).toBe(true);
      await t.deleteQueue(spec('depth'));
      await t.deleteQueue(spec('depth')); // already gone: fine
      await expect(withRaw((ch) => ch.checkQueue('asya-depth'))).rejects.toMatchObject({ code: 404 });
      await expect(withRaw((ch) => ch.checkQueue('asya-depth-dlq'))).rejects.toMatchObject({ code: 404 });
    } finally {
      await t.close();
    }
  });

  it('reports a queue declared with other arguments as QueueArgumentsMismatch and keeps working', async () => {
    await withRaw((ch) => ch.assertQueue('asya-mismatch', { durable: true, arguments: { 'x-max-length': 10 } }));
    const t = new RabbitmqTransport('rabbitmq', rabbitConfig(), logger, { password: () => 'guest' });
    try {
      const err = await t.ensureQueue(spec('mismatch')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).reason).toBe('QueueArgumentsMismatch');
      expect((err as TransportError).message).toMatch(/inequivalent arg/);
      await t.ensureQueue(spec('other'));
      expect(await t.queueExists(spec('other'))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('reports wrong credentials as AuthenticationFailed', async () => {
    const t = new RabbitmqTransport('rabbitmq', rabbitConfig(), logger, { password: () => 'wrong' });
    try {
      const err = await t.ensureQueue(spec('auth')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).reason).toBe('AuthenticationFailed');
    } finally {
      await t.close();
    }
  });

  it('survives a broker restart: BrokerUnreachable while down, works again afterwards on the same object', async () => {
    const t = new RabbitmqTransport('rabbitmq', rabbitConfig(), logger, { password: () => 'guest', connectTimeoutMs: 2000 });
    try {
      await t.ensureQueue(spec('restart'));
      await node.stop();
      const err = await t.stats(spec('restart')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).reason).toBe('BrokerUnreachable');
      await node.restart();
      await new Promise((r) => setTimeout(r, 1100)); // past the remembered connect failure
      expect(await t.stats(spec('restart'))).toEqual({ queued: 0 }); // durable: survived the restart
    } finally {
      await t.close();
    }
  }, 180_000);
});
