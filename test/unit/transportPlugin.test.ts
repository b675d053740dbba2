// A transport is one plugin (src/transports/plugin.ts) in one registry: this test adds a third one from here,
// without touching any other source file, and gets the injection, KEDA trigger, validation and check from it.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Type } from '@sinclair/typebox';
import { validateActor } from '../../src/api/validate.js';
import { runChecks, type CheckIO } from '../../src/check/run.js';
import { parseConfig } from '../../src/config/load.js';
import { operatorTransportsValuesSchema } from '../../src/charts/valuesSchema.js';
import { injectPod } from '../../src/injection/inject.js';
import { desiredScaling } from '../../src/reconciler/desired.js';
import type { TransportPlugin } from '../../src/transports/plugin.js';
import { registerTransport, unregisterTransport } from '../../src/transports/registry.js';
import { MemoryTransport } from '../support/memoryTransport.js';
import { makeActor } from '../support/fixtures.js';

interface MemqConfig {
  url: string;
  maxName: number;
}

const memq: TransportPlugin<MemqConfig> = {
  type: 'memq',
  configSchema: Type.Object({ url: Type.String({ minLength: 1 }), maxName: Type.Integer({ default: 12 }) }),
  client: async (name) => new MemoryTransport(name, 'memq'),
  sidecarEnv: (c) => [{ name: 'MEMQ_URL', value: c.url }],
  kedaTrigger: (c, q) => ({ type: 'memq-scaler', metadata: { url: c.url, queue: q.queue, target: String(q.queueLength) } }),
  validateActor: (c, { queue }) => (queue.length > c.maxName ? [{ path: 'metadata.name', message: `gives memq queue name "${queue}", longer than ${c.maxName}` }] : []),
  address: (c) => c.url,
  probe: async () => ({ ok: false, how: 'memq ping', error: 'connection refused' }),
  probeFix: (name) => `start the memq broker of transport ${name}`,
};

beforeAll(() => registerTransport(memq));
afterAll(() => unregisterTransport('memq'));

const config = () => parseConfig({ transports: { q: { type: 'memq', config: { url: 'memq://broker:7000' } } } });
const actor = (name: string) => ({ ...makeActor(name, { scaling: { enabled: true, queueLength: 7 } }), spec: { ...makeActor(name, { scaling: { enabled: true, queueLength: 7 } }).spec, transport: 'q' } });

describe('a transport registered from outside the source tree', () => {
  test('its configuration is checked by its own schema (defaults applied, unknown keys refused)', () => {
    expect(config().transports.q!.config).toEqual({ url: 'memq://broker:7000', maxName: 12 });
    expect(() => parseConfig({ transports: { q: { type: 'memq', config: { url: 'x', urll: 'y' } } } })).toThrow('transports.q.config.urll: unknown field');
  });

  test('validation applies its rules with field paths', () => {
    const r = validateActor(actor('a-rather-long-name'), { config: config() });
    expect(r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(['metadata.name: gives memq queue name "asya-a-rather-long-name", longer than 12']);
    expect(validateActor(actor('ok'), { config: config() }).errors).toEqual([]);
  });

  test('injection gives the sidecar its settings', () => {
    const a = validateActor(actor('echo'), { config: config() }).actor;
    const pod = { metadata: { name: 'p', namespace: 'default', labels: { 'asya.sh/actor': 'echo' } }, spec: { containers: [{ name: 'asya-runtime', image: 'h:1' }] } };
    const r = injectPod({ pod, namespace: 'default', actor: a, config: config() });
    if (r.outcome !== 'injected') throw new Error(r.outcome);
    const env = (r.pod.spec?.containers ?? []).find((c) => c.name === 'asya-sidecar')!.env as Array<{ name: string; value?: string }>;
    expect(env).toEqual(expect.arrayContaining([{ name: 'ASYA_TRANSPORT', value: 'memq' }, { name: 'MEMQ_URL', value: 'memq://broker:7000' }]));
  });

  test('the ScaledObject gets its KEDA trigger, named so that formulas can refer to it', () => {
    const a = validateActor({ ...actor('echo'), metadata: { ...actor('echo').metadata, uid: 'u1' } }, { config: config() }).actor;
    const so = desiredScaling(a, config().transports.q!, undefined)!.scaledObject;
    expect((so.spec as { triggers: unknown[] }).triggers).toEqual([{ type: 'memq-scaler', name: 'queueLength', metadata: { url: 'memq://broker:7000', queue: 'asya-echo', target: '7' } }]);
  });

  test('check probes it and says what to do', async () => {
    const io = {
      serverVersion: async () => 'v1.37.2',
      findConfig: async () => ({ source: 'x', text: 'transports: {q: {type: memq, config: {url: "memq://broker:7000"}}}\nreconciler: {leaderElection: {enabled: false}}' }),
      probeTransport: (t, ctx) => memq.probe(t.name, t.config as MemqConfig, ctx),
      readSecretKey: async () => undefined,
    } as Partial<CheckIO> as CheckIO;
    const results = await runChecks(
      new Proxy(io, { get: (o, k) => (k in o ? o[k as keyof CheckIO] : async () => undefined) }),
      { namespace: 'asya-system', dryRunNamespace: 'default', now: () => new Date() },
    );
    expect(results.find((r) => r.name.startsWith('transport q'))).toEqual({
      name: 'transport q (memq at memq://broker:7000)',
      status: 'fail',
      detail: 'unreachable: memq ping failed: connection refused',
      fix: 'start the memq broker of transport q',
    });
  });

  test("the operator chart's values schema takes its config schema (src/charts/valuesSchema.ts)", () => {
    const entry = operatorTransportsValuesSchema().additionalProperties as { properties: { type: { enum: string[] } }; allOf: Array<{ if: any; then: any }> };
    expect(entry.properties.type.enum).toContain('memq');
    const memqThen = entry.allOf.find((a) => a.if.properties.type.const === 'memq')!.then;
    // url required, maxName defaulted (so not required: the loader applies the default), unknown keys refused.
    expect(memqThen.properties.config).toMatchObject({ required: ['url'], additionalProperties: false, properties: { maxName: { default: 12 } } });
  });
});
