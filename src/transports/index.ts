// One Transport per enabled transport of the configuration.
import type { OperatorConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { RabbitmqTransport } from './rabbitmq.js';
import { SqsTransport } from './sqs.js';
import type { Transport } from './types.js';

export type { Transport, QueueSpec, QueueStats, QueueInfo } from './types.js';
export { TransportError, isTransportError } from './types.js';

export function createTransports(config: OperatorConfig, logger: Logger): Map<string, Transport> {
  const out = new Map<string, Transport>();
  for (const [name, t] of Object.entries(config.transports)) {
    if (!t.enabled) continue;
    out.set(name, t.type === 'rabbitmq' ? new RabbitmqTransport(name, t.config, logger) : new SqsTransport(name, t.config, logger));
  }
  return out;
}
