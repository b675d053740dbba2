// The transports the operator knows, by type: the one place a new broker is added (ADR 0001, src/transports/plugin.ts).
import type { TransportConfig } from '../config/schema.js';
import type { TransportPlugin } from './plugin.js';
import { rabbitmq } from './rabbitmq/index.js';
import { sqs } from './sqs/index.js';

const plugins = new Map<string, TransportPlugin>([
  [rabbitmq.type, rabbitmq],
  [sqs.type, sqs],
]);

/** Adds a transport (an extension, or a test's). Its type must be new. */
export function registerTransport(plugin: TransportPlugin): void {
  if (plugins.has(plugin.type)) throw new Error(`transport type ${plugin.type} is registered already`);
  plugins.set(plugin.type, plugin);
}

/** Removes a transport added by registerTransport (tests). */
export function unregisterTransport(type: string): void {
  if (type !== rabbitmq.type && type !== sqs.type) plugins.delete(type);
}

export function transportTypes(): string[] {
  return [...plugins.keys()];
}

export function transportPlugin(type: string): TransportPlugin | undefined {
  return plugins.get(type);
}

/** The plugin of a configured transport (load.ts refuses a configuration naming an unknown type). */
export function pluginOf(t: Pick<TransportConfig, 'type' | 'name'>): TransportPlugin {
  const p = plugins.get(t.type);
  if (!p) throw new Error(`transport ${t.name}: unknown type ${t.type} (known: ${transportTypes().join(', ')})`);
  return p;
}
