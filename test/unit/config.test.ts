import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, findTransport, loadConfigFile, parseConfigText } from '../../src/config/load.js';

const errorsOf = (text: string): string[] => {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).errors.map((e) => `${e.path}: ${e.message}`);
  }
  throw new Error('expected a ConfigError');
};

describe('operator configuration', () => {
  test('the seed values shape loads with its defaults', () => {
    const c = parseConfigText(`
transports:
  rabbitmq:
    enabled: true
    type: rabbitmq
    config:
      host: rabbitmq.default.svc.cluster.local
      port: 5672
      username: guest
      passwordSecretRef: {name: rabbitmq-secret, key: password}
  sqs:
    enabled: false
    type: sqs
    config:
      region: us-east-1
      queueBaseURL: ""
sidecar:
  image: asya-sidecar:latest
  defaultResources:
    limits: {cpu: 500m, memory: 256Mi}
    requests: {cpu: 100m, memory: 64Mi}
`);
    expect(c.transports.rabbitmq).toMatchObject({ name: 'rabbitmq', enabled: true, type: 'rabbitmq', config: { host: 'rabbitmq.default.svc.cluster.local', vhost: '/' } });
    expect(c.transports.sqs).toMatchObject({ enabled: false, config: { region: 'us-east-1', actorRoleArn: '', visibilityTimeout: 300 } });
    expect(c.sidecar).toMatchObject({ imagePullPolicy: 'IfNotPresent', native: false, logLevel: 'info' });
    expect(c.webhook.excludedNamespaces).toEqual(['kube-system', 'kube-public', 'kube-node-lease']);
    expect(c.reconciler.leaderElection.enabled).toBe(true);
  });

  test('an empty file is the default configuration (no transports)', () => {
    expect(parseConfigText('').transports).toEqual({});
  });

  test.each([
    ['unknown top-level key', 'sidecars: {}', 'sidecars: unknown field'],
    ['unknown nested key', 'sidecar: {imagee: x}', 'sidecar.imagee: unknown field'],
    ['unknown transport config key', 'transports: {r: {type: rabbitmq, config: {host: h, hostt: x}}}', 'transports.r.config.hostt: unknown field'],
    ['wrong type', 'transports: {r: {type: rabbitmq, config: {host: h, port: "five"}}}', 'transports.r.config.port: must be of type integer'],
    ['missing host', 'transports: {r: {type: rabbitmq, config: {}}}', 'transports.r.config.host: is required'],
    ['unknown transport type', 'transports: {k: {type: kafka, config: {}}}', 'transports.k.type: unknown transport type "kafka" (known: rabbitmq, sqs)'],
    ['sqs without region', 'transports: {s: {type: sqs}}', 'transports.s.config.region: is required'],
    ['enum', 'sidecar: {imagePullPolicy: Sometimes}', 'sidecar.imagePullPolicy: must be one of "Always", "IfNotPresent", "Never"'],
    ['secret ref without key', 'transports: {r: {type: rabbitmq, config: {host: h, passwordSecretRef: {name: s}}}}', 'transports.r.config.passwordSecretRef.key: is required'],
  ])('%s stops start-up naming the key', (_n, text, expected) => {
    expect(errorsOf(text)).toContain(expected);
  });

  test('not YAML, or not a mapping', () => {
    expect(errorsOf('a: [')[0]).toMatch(/^: not valid YAML/);
    expect(errorsOf('- a')).toEqual([': must be a YAML mapping']);
  });

  test('the message names the file and every key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asya-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'sidecar: {imagee: x}\nwebhok: {}\n');
    expect(() => loadConfigFile(file)).toThrow(`invalid configuration ${file}:\n  sidecar.imagee: unknown field\n  webhok: unknown field`);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read: ENOENT/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('findTransport tells missing from disabled', () => {
    const c = parseConfigText('transports: {a: {type: rabbitmq, config: {host: h}}, b: {enabled: false, type: rabbitmq, config: {host: h}}}');
    expect(findTransport(c, 'a').ok).toBe(true);
    expect(findTransport(c, 'b')).toEqual({ ok: false, message: 'transport "b" is disabled in operator configuration' });
    expect(findTransport(c, 'c')).toEqual({ ok: false, message: 'transport "c" not found in operator configuration (enabled: a)' });
    expect(findTransport(c, 'constructor').ok).toBe(false);
  });
});
