// Options and helpers shared by the sub-commands of asya-webhook (src/cli/commands/*).
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { AsyncActor } from '../api/schema.js';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { OperatorConfig } from '../config/schema.js';
import { ACTOR_KIND } from '../names.js';
import { parseYamlDocuments, type YamlDoc } from '../util/yamlDocs.js';

export function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`invalid number: ${v}`);
  return n;
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${v}`);
  return n;
}

/** --kubeconfig */
export const kubeconfigOption = (c: Command): Command => c.option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)');

/** --health-port, --metrics-port, --host of the long-running processes. */
export const serverPortOptions = (c: Command): Command =>
  c
    .addOption(new Option('--health-port <port>', 'plain HTTP port for /healthz and /readyz').default(8081).argParser(parsePort))
    .addOption(new Option('--metrics-port <port>', 'plain HTTP port for /metrics (may equal --health-port)').default(8080).argParser(parsePort));

export const logLevelOption = (c: Command): Command => c.addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']).default('info'));

/** -c, --config for the offline tools, which fall back to the development configuration. */
export const devConfigOption = (c: Command): Command => c.option('-c, --config <file>', 'operator configuration (default: development configuration)');

/** Used by validate and inject when no --config is given: both transports enabled, loopback brokers. */
export const DEVELOPMENT_CONFIG = {
  transports: {
    rabbitmq: { enabled: true, type: 'rabbitmq', config: { host: 'localhost', passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' } } },
    sqs: { enabled: true, type: 'sqs', config: { region: 'us-east-1' } },
  },
};

export function loadConfigOrDev(path: string | undefined, quiet = false): OperatorConfig {
  if (path) return loadConfigFile(path);
  if (!quiet) process.stderr.write('note: no --config given, using the development configuration (transports rabbitmq and sqs enabled)\n');
  return parseConfig(structuredClone(DEVELOPMENT_CONFIG), 'development configuration');
}

export function readDocs(files: string[]): YamlDoc[] {
  return files.flatMap((f) => parseYamlDocuments(f === '-' ? readFileSync(0, 'utf8') : readFileSync(f, 'utf8'), f));
}

export const isActor = (v: unknown): v is AsyncActor => !!v && typeof v === 'object' && (v as { kind?: unknown }).kind === ACTOR_KIND;
