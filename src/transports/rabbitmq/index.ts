// RabbitMQ, as the Kubernetes side sees it: the sidecar's env as upstream's sidecar reads it, KEDA's rabbitmq
// scaler, the queue-name limit, and the probe of `asya-webhook check`. ADR 0001 has the contract.
import type { EnvVar } from '../../schema/kubernetes.js';
import { ENV } from '../../names.js';
import { secretEnv, withProbeTimeout } from '../common.js';
import type { TransportPlugin, TransportProbeResult } from '../plugin.js';
import { RabbitmqConfigSchema, type RabbitmqConfig } from './config.js';

const RABBITMQ_MAX_QUEUE_BYTES = 255;

/**
 * ASYA_RABBITMQ_URL, the only way to give the sidecar a vhost or TLS (from HOST/PORT/USERNAME/PASSWORD alone it
 * dials amqp://.../ on vhost /). It refers to the variables before it with $(VAR), which the kubelet expands
 * when it starts the container, so the password still comes from its Secret and never appears in the pod spec;
 * hence it comes last, after the user's overrides. As in upstream's own URL, the password is not escaped:
 * one with '/', '?', '#' or '%' cannot be used.
 */
function rabbitmqUrl(c: RabbitmqConfig, env: EnvVar[]): string {
  const ref = (name: string, fallback: string) => (env.some((e) => e.name === name) ? `$(${name})` : fallback);
  const vhost = c.vhost === '/' ? '' : encodeURIComponent(c.vhost);
  return `${c.tls ? 'amqps' : 'amqp'}://${ref(ENV.rabbitmqUsername, c.username)}:${ref(ENV.rabbitmqPassword, 'guest')}@$(${ENV.rabbitmqHost}):$(${ENV.rabbitmqPort})/${vhost}`;
}

export const rabbitmq: TransportPlugin<RabbitmqConfig> = {
  type: 'rabbitmq',
  configSchema: RabbitmqConfigSchema,

  // The broker library loads with the client: the webhook never needs it (about 13 MiB of RSS).
  client: async (name, config, logger) => new (await import('./client.js')).RabbitmqTransport(name, config, logger),

  sidecarEnv: (c) => [
    { name: ENV.rabbitmqHost, value: c.host },
    { name: ENV.rabbitmqPort, value: String(c.port) },
    c.usernameSecretRef ? secretEnv(ENV.rabbitmqUsername, c.usernameSecretRef) : { name: ENV.rabbitmqUsername, value: c.username },
    ...(c.passwordSecretRef ? [secretEnv(ENV.rabbitmqPassword, c.passwordSecretRef)] : []),
    { name: ENV.rabbitmqExchange, value: c.exchange },
  ],

  finishSidecarEnv: (c, env) => (env.some((e) => e.name === ENV.rabbitmqUrl) ? env : [...env, { name: ENV.rabbitmqUrl, value: rabbitmqUrl(c, env) }]),

  kedaTrigger: (c, q) => {
    // Credentials never go into trigger metadata (keda#5127): the host has none, the Secret gives both.
    const user = c.usernameSecretRef ?? (c.passwordSecretRef ? { name: c.passwordSecretRef.name, key: 'username' } : undefined);
    return {
      type: 'rabbitmq',
      metadata: {
        protocol: 'amqp',
        host: `${c.tls ? 'amqps' : 'amqp'}://${c.host}:${c.port}/`,
        vhostName: c.vhost,
        queueName: q.queue,
        mode: 'QueueLength',
        value: String(q.queueLength),
      },
      ...(c.passwordSecretRef && user
        ? {
            authentication: {
              secretTargetRef: [
                { parameter: 'username', name: user.name, key: user.key },
                { parameter: 'password', name: c.passwordSecretRef.name, key: c.passwordSecretRef.key },
              ],
            },
          }
        : {}),
    };
  },

  validateActor: (_c, { queue }) =>
    Buffer.byteLength(queue) > RABBITMQ_MAX_QUEUE_BYTES ? [{ path: 'metadata.name', message: `gives RabbitMQ queue name "${queue}", longer than 255 bytes` }] : [],

  address: (c) => `${c.host}:${c.port}`,

  async probe(_name, c, ctx): Promise<TransportProbeResult> {
    let password: string | undefined;
    let note: string | undefined;
    if (c.passwordSecretRef) {
      password = await ctx.readSecretKey(c.passwordSecretRef.name, c.passwordSecretRef.key);
      if (password === undefined) note = `Secret ${ctx.namespace}/${c.passwordSecretRef.name} not readable: TCP connect only`;
    } else if (c.passwordFile) note = `password in file ${c.passwordFile} (in the pod): TCP connect only`;
    else password = 'guest';
    if (password === undefined) {
      const { tcpProbe } = await import('../../util/tcpProbe.js');
      const err = await tcpProbe(c.host, c.port);
      return { ok: !err, how: 'TCP connect', ...(err ? { error: err } : {}), ...(note ? { note } : {}) };
    }
    const how = `AMQP login as ${c.username}`;
    const { default: amqp } = await import('amqplib');
    try {
      const conn = await withProbeTimeout(
        amqp.connect(
          { protocol: c.tls ? 'amqps' : 'amqp', hostname: c.host, port: c.port, username: c.username, password, vhost: c.vhost },
          { timeout: 5000, clientProperties: { connection_name: 'asya-webhook check' } },
        ),
        'AMQP connect',
      );
      conn.on('error', () => undefined);
      try {
        const missingEndQueues: string[] = [];
        for (const queue of ctx.endQueues) {
          // A 404 closes the channel it happened on: one channel per queue.
          const ch = await conn.createChannel();
          ch.on('error', () => undefined);
          const found = await ch.checkQueue(queue).then(
            () => true,
            (err: { code?: number }) => (err?.code === 404 ? false : Promise.reject(err)),
          );
          if (!found) missingEndQueues.push(queue);
          else await ch.close().catch(() => undefined);
        }
        return { ok: true, how, missingEndQueues, ...(note ? { note } : {}) };
      } finally {
        await conn.close().catch(() => undefined);
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { ok: false, how, error: `${typeof e.code === 'string' ? `${e.code} ` : ''}${e.message}` };
    }
  },

  probeFix: (name, c) => `check the broker at ${c.host}:${c.port} and the password Secret; or fix transports.${name}.config with helm upgrade`,
};
