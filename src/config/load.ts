// Reads the operator configuration file. Any unknown key or wrong type stops start-up with a message naming it.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SchemaChecker, formatFieldError, type FieldError } from '../util/schemaChecker.js';
import { transportPlugin, transportTypes } from '../transports/registry.js';
import { OperatorConfigSchema, type OperatorConfig, type TransportConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: FieldError[],
  ) {
    super(`invalid configuration ${source}:\n${errors.map((e) => `  ${formatFieldError(e)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const topChecker = new SchemaChecker<unknown>(OperatorConfigSchema, { closeObjects: true });
/** One checker per transport type, made when first needed (a test may register a type of its own). */
const transportCheckers = new Map<string, SchemaChecker<unknown>>();
function transportChecker(type: string): SchemaChecker<unknown> | undefined {
  const plugin = transportPlugin(type);
  if (!plugin) return undefined;
  let c = transportCheckers.get(type);
  if (!c) transportCheckers.set(type, (c = new SchemaChecker<unknown>(plugin.configSchema, { closeObjects: true })));
  return c;
}

/** Pure: checks and defaults a parsed configuration object. */
export function parseConfig(raw: unknown, source = '<inline>'): OperatorConfig {
  const value: unknown = raw ?? {};
  const errors: FieldError[] = [];
  const top = topChecker.check(value);
  if (!top.ok) errors.push(...top.errors);
  const transports = (value as { transports?: Record<string, { type?: unknown; config?: unknown }> }).transports ?? {};
  if (transports && typeof transports === 'object') {
    for (const [name, entry] of Object.entries(transports)) {
      if (!entry || typeof entry !== 'object' || typeof entry.type !== 'string') continue;
      const checker = transportChecker(entry.type);
      if (!checker) {
        errors.push({ path: `transports.${name}.type`, message: `unknown transport type "${entry.type}" (known: ${transportTypes().join(', ')})` });
        continue;
      }
      if (entry.config === undefined) entry.config = {};
      const r = checker.check(entry.config, `transports.${name}.config`);
      if (!r.ok) errors.push(...r.errors);
    }
  }
  if (errors.length > 0) throw new ConfigError(source, errors.sort((a, b) => a.path.localeCompare(b.path)));
  const config = value as OperatorConfig;
  for (const [name, t] of Object.entries(config.transports)) (t as TransportConfig).name = name;
  return config;
}

export function parseConfigText(text: string, source = '<inline>'): OperatorConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(source, [{ path: '', message: 'must be a YAML mapping' }]);
  }
  return parseConfig(raw, source);
}

export function loadConfigFile(path: string): OperatorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseConfigText(text, path);
}

/** The enabled transport of that name, or why there is none. */
export function findTransport(config: OperatorConfig, name: string): { ok: true; transport: TransportConfig } | { ok: false; message: string } {
  const t = Object.hasOwn(config.transports, name) ? config.transports[name] : undefined;
  if (!t) {
    const known = Object.keys(config.transports).filter((k) => config.transports[k]?.enabled);
    return { ok: false, message: `transport "${name}" not found in operator configuration (enabled: ${known.length ? known.join(', ') : 'none'})` };
  }
  if (!t.enabled) return { ok: false, message: `transport "${name}" is disabled in operator configuration` };
  return { ok: true, transport: t };
}
