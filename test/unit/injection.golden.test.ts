import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
// Golden tests of pod injection, discovered from test/golden/injection/<case>/:
//   pod.yaml (input), actor.yaml (else ../actor-echo.yaml), config.yaml (else ../config.yaml),
//   namespace (optional, the request namespace), expected.json (outcome and patch).
// UPDATE_GOLDEN=1 rewrites expected.json; a golden file without its case fails the run.
import { describe, expect, test } from '@jest/globals';
import fjp from 'fast-json-patch';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { ActorIndex } from '../../src/api/actorIndex.js';
import type { AsyncActor } from '../../src/api/schema.js';
import { parseConfig } from '../../src/config/load.js';
import { injectPod, podLabelActor, type Pod } from '../../src/injection/inject.js';
import { injectObject } from '../../src/injection/offline.js';
import { mutatePodHandler } from '../../src/webhook/handlers.js';
import { INJECTION_STATUS_ANNOTATION, SIDECAR_CONTAINER } from '../../src/names.js';

// Jest's ESM loader has import.meta.url but not import.meta.dirname.
const HERE = dirname(fileURLToPath(import.meta.url));

const ROOT = join(HERE, '..', 'golden', 'injection');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const readYaml = (p: string): unknown => parse(readFileSync(p, 'utf8'));

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

function load(name: string) {
  const dir = join(ROOT, name);
  const pod = readYaml(join(dir, 'pod.yaml')) as Pod;
  const actorFile = existsSync(join(dir, 'actor.yaml')) ? join(dir, 'actor.yaml') : join(ROOT, 'actor-echo.yaml');
  const config = parseConfig(readYaml(existsSync(join(dir, 'config.yaml')) ? join(dir, 'config.yaml') : join(ROOT, 'config.yaml')));
  const namespace = existsSync(join(dir, 'namespace')) ? readFileSync(join(dir, 'namespace'), 'utf8').trim() : (pod.metadata?.namespace ?? 'default');
  const index = new ActorIndex();
  index.upsert(readYaml(actorFile) as AsyncActor);
  const actorName = podLabelActor(pod);
  const actor = actorName ? index.get(namespace, actorName) : undefined;
  return { dir, pod, config, namespace, actor };
}

test('every case has an expected.json and every expected.json has a case', () => {
  expect(cases.length).toBeGreaterThanOrEqual(15);
  for (const c of cases) {
    if (!UPDATE) expect(existsSync(join(ROOT, c, 'expected.json'))).toBe(true);
    expect(existsSync(join(ROOT, c, 'pod.yaml'))).toBe(true);
  }
});

describe.each(cases)('%s', (name) => {
  const { dir, pod, config, namespace, actor } = load(name);
  const result = injectPod({ pod: structuredClone(pod), namespace, actor, config });
  const got = result.outcome === 'injected' ? { outcome: result.outcome, patch: result.patch } : { outcome: result.outcome, reason: result.reason, message: result.message };

  test('matches the golden file', () => {
    const file = join(dir, 'expected.json');
    if (UPDATE) writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });

  if (result.outcome !== 'injected') return;

  test('patch uses only add/replace on exact paths and applies to the original', () => {
    for (const op of result.patch) {
      expect(['add', 'replace']).toContain(op.op);
      // A whole existing array is never rewritten: an array value is only added where none existed.
      if (Array.isArray((op as { value?: unknown }).value)) {
        const existing = fjp.getValueByPointer(pod, op.path.split('/').slice(0, -1).join('/') || '');
        const key = op.path.split('/').pop()!;
        expect(existing === undefined || (existing as Record<string, unknown>)[key] === undefined || !Array.isArray((existing as Record<string, unknown>)[key])).toBe(true);
      }
    }
    const wire = JSON.parse(JSON.stringify(result.patch)) as typeof result.patch; // as the API server receives it
    const applied = fjp.applyPatch(structuredClone(pod), wire, true, false).newDocument;
    expect(applied).toEqual(result.pod);
  });

  test('keeps everything the pod had', () => {
    const after = result.pod;
    expect(after.metadata?.labels).toEqual(pod.metadata?.labels);
    for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) expect(after.metadata?.annotations?.[k]).toBe(v);
    for (const c of pod.spec?.containers ?? []) expect(after.spec?.containers?.some((x) => x.name === c.name && x.image === c.image)).toBe(true);
    for (const v of pod.spec?.volumes ?? []) expect(after.spec?.volumes).toContainEqual(v);
    expect(after.metadata?.annotations?.[INJECTION_STATUS_ANNOTATION]).toBeDefined();
    const sidecars = [...(after.spec?.containers ?? []), ...(after.spec?.initContainers ?? [])].filter((c) => c.name === SIDECAR_CONTAINER);
    expect(sidecars).toHaveLength(1);
  });

  test('the injected pod is a valid Pod (Kubernetes schema)', () => {
    expect(() => new PodModel(result.pod as ConstructorParameters<typeof PodModel>[0]).validate()).not.toThrow();
  });

  test('the input pod is never modified (it is deeply frozen here)', () => {
    const frozen = deepFreeze(structuredClone(pod));
    const again = injectPod({ pod: frozen, namespace, actor, config });
    expect(again.outcome === 'injected' ? again.patch : undefined).toEqual(result.patch);
  });

  test('injecting the injected pod again changes nothing', () => {
    const again = injectPod({ pod: structuredClone(result.pod), namespace, actor, config });
    expect(again.outcome).toBe('skipped');
    if (again.outcome === 'skipped') expect(again.reason).toBe('already_injected');
  });

  // The same case through the two other doors, as Istio's golden tests do: the admission webhook's handler (what
  // the API server gets back) and `asya-webhook inject` (a workload file injected offline).
  test('the webhook handler answers this patch', () => {
    const index = new ActorIndex();
    if (actor) index.upsert(actor);
    const req = { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' as const, namespace, object: structuredClone(pod) };
    const { review } = mutatePodHandler(req, { config, actors: index });
    expect(review.response.allowed).toBe(true);
    expect(JSON.parse(Buffer.from(review.response.patch ?? '', 'base64').toString('utf8'))).toEqual(result.patch);
  });

  test('asya-webhook inject gives the same pod in a Deployment template', () => {
    const index = new ActorIndex();
    if (actor) index.upsert(actor);
    const { metadata, spec } = structuredClone(pod);
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', namespace }, spec: { template: { metadata, spec } } };
    const out = injectObject(deployment, index, config);
    expect(out.outcome).toBe('injected');
    const { metadata: m2, spec: s2 } = result.pod;
    expect((out.object as { spec: { template: unknown } }).spec.template).toEqual({ metadata: m2, spec: s2 });
  });

  test('no secret value in the patch: passwords and keys only by secretKeyRef', () => {
    const text = JSON.stringify(result.patch);
    expect(text).not.toMatch(/PASSWORD","value"/);
    expect(text).not.toMatch(/AWS_SECRET_ACCESS_KEY","value"/);
  });
});
