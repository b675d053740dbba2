// One Transport (broker client) per enabled transport of the configuration, made by its plugin.
import type { OperatorConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { pluginOf } from './registry.js';
import type { Transport } from './types.js';

export type { Transport, QueueSpec, QueueStats, QueueInfo } from './types.js';
export { TransportError, isTransportError } from './types.js';

export async function createTransports(config: OperatorConfig, logger: Logger): Promise<Map<string, Transport>> {
  const out = new Map<string, Transport>();
  for (const [name, t] of Object.entries(config.transports)) {
    if (t.enabled) out.set(name, await pluginOf(t).client(name, t.config, logger));
  }
  return out;
}
