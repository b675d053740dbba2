// RabbitMQ transport (amqplib 2.x). One lazily opened connection shared by all reconciles; channels come
// from a small pool and are used by one operation at a time, because a 404 or 406 reply closes the channel
// it happened on (and would fail whatever else was running on it). A dropped connection is reopened on the
// next call; the work queue's backoff paces the retries, so nothing here sleeps.
import { readFileSync } from 'node:fs';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { RabbitmqConfig } from './config.js';
import { deadLetterQueueNameFor, routingKeyFor } from '../../names.js';
import type { Logger } from '../../observability/logger.js';
import { TransportError, type QueueInfo, type QueueSpec, type QueueStats, type Transport } from '../types.js';

const MAX_IDLE_CHANNELS = 16;
/** After a failed connect, calls fail fast for this long instead of all dialling a dead broker at once. */
const CONNECT_FAILURE_MEMORY_MS = 1000;

interface AmqpError extends Error {
  code?: number | string;
}

export function rabbitmqPassword(config: RabbitmqConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (config.passwordFile) return readFileSync(config.passwordFile, 'utf8').trim();
  return env.ASYA_RABBITMQ_PASSWORD ?? 'guest';
}

/** Turns amqplib and socket errors into a reason the actor's TransportReady condition can show. */
export function classifyAmqpError(err: unknown, where: string): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as AmqpError;
  const msg = e?.message ?? String(err);
  if (e?.code === 406) return new TransportError('QueueArgumentsMismatch', `${where}: ${msg} (delete the queue or restore the previous configuration)`);
  if (e?.code === 403 || /ACCESS[-_]REFUSED/.test(msg)) return new TransportError('AuthenticationFailed', `${where}: ${msg}`);
  if (typeof e?.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|EPIPE)$/.test(e.code)) {
    return new TransportError('BrokerUnreachable', `${where}: ${e.code} ${msg}`);
  }
  if (/connect|socket|closed|timeout/i.test(msg)) return new TransportError('BrokerUnreachable', `${where}: ${msg}`);
  return new TransportError('BrokerError', `${where}: ${msg}`);
}

export class RabbitmqTransport implements Transport {
  readonly type = 'rabbitmq' as const;
  private connection?: Promise<ChannelModel>;
  private lastConnectFailure?: { at: number; error: TransportError };
  private readonly idle: Channel[] = [];
  private closed = false;
  calls = 0;

  constructor(
    readonly name: string,
    private readonly config: RabbitmqConfig,
    private readonly logger: Logger,
    private readonly opts: { password?: () => string; connectTimeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  private connect(): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new TransportError('BrokerError', 'transport closed'));
    if (this.connection) return this.connection;
    const failure = this.lastConnectFailure;
    if (failure && Date.now() - failure.at < CONNECT_FAILURE_MEMORY_MS) return Promise.reject(failure.error);
    const c = this.config;
    this.calls++;
    const attempt = amqp
      .connect(
        {
          protocol: c.tls ? 'amqps' : 'amqp',
          hostname: c.host,
          port: c.port,
          username: c.username,
          password: (this.opts.password ?? (() => rabbitmqPassword(c)))(),
          vhost: c.vhost,
          heartbeat: 30,
        },
        { timeout: this.opts.connectTimeoutMs ?? 5000, clientProperties: { connection_name: `asya-reconciler/${this.name}` } },
      )
      .then(
        (conn) => {
          this.lastConnectFailure = undefined;
          // Without an 'error' listener a broker-side close would be an uncaught exception.
          conn.on('error', (err: Error) => this.logger.warn('rabbitmq connection error', { transport: this.name, error: err.message }));
          conn.on('close', () => {
            if (this.connection === attempt) this.connection = undefined;
            this.idle.length = 0;
            if (!this.closed) this.logger.warn('rabbitmq connection closed', { transport: this.name });
          });
          this.logger.info('rabbitmq connected', { transport: this.name, host: c.host, port: c.port });
          return conn;
        },
        (err: unknown) => {
          const error = classifyAmqpError(err, `connect to ${c.host}:${c.port}`);
          this.lastConnectFailure = { at: Date.now(), error };
          if (this.connection === attempt) this.connection = undefined;
          throw error;
        },
      );
    this.connection = attempt;
    return attempt;
  }

  /** Runs fn on a channel nobody else uses; the channel goes back to the pool only if it is still open. */
  private async withChannel<T>(where: string, fn: (ch: Channel) => Promise<T>): Promise<T> {
    let ch = this.idle.pop();
    if (!ch) {
      const conn = await this.connect();
      this.calls++;
      try {
        ch = await conn.createChannel();
      } catch (err) {
        throw classifyAmqpError(err, where);
      }
      const channel = ch;
      channel.on('error', () => {
        // The failing operation reports it; the listener only keeps the process alive.
      });
      channel.on('close', () => {
        (channel as Channel & { dead?: boolean }).dead = true;
      });
    }
    const channel = ch;
    try {
      const result = await fn(channel);
      if (!(channel as Channel & { dead?: boolean }).dead && this.idle.length < MAX_IDLE_CHANNELS) this.idle.push(channel);
      else if (!(channel as Channel & { dead?: boolean }).dead) void channel.close().catch(() => undefined);
      return result;
    } catch (err) {
      // A 404/406 closed this channel; anything else may have left it unusable too.
      (channel as Channel & { dead?: boolean }).dead = true;
      void channel.close().catch(() => undefined);
      throw err;
    }
  }

  private queueArguments(spec: QueueSpec): Record<string, unknown> {
    if (!this.config.deadLetter.enabled) return {};
    return { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': deadLetterQueueNameFor(spec.actorName) };
  }

  async ensureQueue(spec: QueueSpec): Promise<QueueInfo> {
    const where = `declare queue ${spec.name}`;
    try {
      await this.withChannel(where, async (ch) => {
        if (this.config.deadLetter.enabled) {
          this.calls++;
          await ch.assertQueue(deadLetterQueueNameFor(spec.actorName), { durable: true });
        }
        this.calls++;
        await ch.assertQueue(spec.name, { durable: true, arguments: this.queueArguments(spec) });
        // The sidecars publish to the exchange with the actor name as routing key (names.ts routingKeyFor);
        // they declare the exchange themselves the same way, so both declarations agree.
        const exchange = this.config.exchange;
        this.calls += 3;
        await ch.assertExchange(exchange, 'topic', { durable: true });
        await ch.bindQueue(spec.name, exchange, routingKeyFor(spec.actorName));
        // A binding with the queue's own name (upstream's operator, and this one before 0.2) routes the
        // messages meant for actor asya-<name> into this queue too: remove it (a no-op when absent).
        if (routingKeyFor(spec.actorName) !== spec.name) await ch.unbindQueue(spec.name, exchange, spec.name);
      });
    } catch (err) {
      throw classifyAmqpError(err, where);
    }
    return { url: spec.name };
  }

  async stats(spec: QueueSpec): Promise<QueueStats | undefined> {
    const where = `check queue ${spec.name}`;
    let queued: number;
    try {
      const reply = await this.withChannel(where, async (ch) => {
        this.calls++;
        return await ch.checkQueue(spec.name);
      });
      queued = reply.messageCount;
    } catch (err) {
      if ((err as AmqpError)?.code === 404) return undefined;
      throw classifyAmqpError(err, where);
    }
    return { queued, processing: await this.unacknowledged(spec) };
  }

  async queueExists(spec: QueueSpec): Promise<boolean> {
    return (await this.stats(spec)) !== undefined;
  }

  /** messages_unacknowledged from the management API, when configured; a failure there only hides the column. */
  private async unacknowledged(spec: QueueSpec): Promise<number | undefined> {
    const port = this.config.managementPort;
    if (!port) return undefined;
    const c = this.config;
    const url = `${c.tls ? 'https' : 'http'}://${c.host}:${port}/api/queues/${encodeURIComponent(c.vhost)}/${encodeURIComponent(spec.name)}`;
    try {
      this.calls++;
      const auth = Buffer.from(`${c.username}:${(this.opts.password ?? (() => rabbitmqPassword(c)))()}`).toString('base64');
      const res = await (this.opts.fetch ?? fetch)(url, { headers: { authorization: `Basic ${auth}` }, signal: AbortSignal.timeout(2000) });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { messages_unacknowledged?: unknown };
      return typeof body.messages_unacknowledged === 'number' ? body.messages_unacknowledged : undefined;
    } catch {
      return undefined;
    }
  }

  async deleteQueue(spec: QueueSpec): Promise<void> {
    const where = `delete queue ${spec.name}`;
    try {
      await this.withChannel(where, async (ch) => {
        this.calls++;
        await ch.deleteQueue(spec.name);
        if (this.config.deadLetter.enabled) {
          this.calls++;
          await ch.deleteQueue(deadLetterQueueNameFor(spec.actorName));
        }
      });
    } catch (err) {
      if ((err as AmqpError)?.code === 404) return;
      throw classifyAmqpError(err, where);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.connection;
    this.connection = undefined;
    this.idle.length = 0;
    if (conn) await conn.then((c) => c.close()).catch(() => undefined);
  }
}
