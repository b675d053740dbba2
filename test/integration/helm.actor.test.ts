// charts/asya-actor with the real helm: the six examples of seed 002 (test/golden/charts/actor-values/) render
// into one AsyncActor each, which the webhook's own validation accepts under the configuration the operator
// chart renders; empty optional values stay out; mistakes fail at template time; the helm test is scoped.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AsyncActor } from '../../src/api/schema.js';
import { validateActor } from '../../src/api/validate.js';
import { parseConfigText } from '../../src/config/load.js';
import type { OperatorConfig } from '../../src/config/schema.js';
import { ACTOR_CHART, OPERATOR_CHART, ROOT, Rendered, template, templateRaw, type K8sObject } from './helm.support.js';

const VALUES_DIR = join(ROOT, 'test/golden/charts/actor-values');
const files = readdirSync(VALUES_DIR).filter((f) => f.endsWith('.yaml')).sort();

let config: OperatorConfig;
const renders = new Map<string, Rendered>();
beforeAll(async () => {
  const operator = new Rendered(await template(OPERATOR_CHART, { values: { transports: { sqs: { enabled: true } } }, withTests: false }));
  const cm = operator.get('ConfigMap', 'asya-operator-config') as K8sObject & { data: Record<string, string> };
  config = parseConfigText(cm.data['config.yaml']!);
  const docs = await Promise.all(files.map((f) => template(ACTOR_CHART, { values: parse(readFileSync(join(VALUES_DIR, f), 'utf8')) as Record<string, unknown>, release: 'r', namespace: 'asya' })));
  files.forEach((f, i) => renders.set(f, new Rendered(docs[i]!)));
}, 60_000);

const actorOf = (f: string) => renders.get(f)!.get('AsyncActor') as unknown as AsyncActor;

test('the six examples of seed 002 are there', () => {
  expect(files).toHaveLength(6);
});

describe.each(files)('%s', (file) => {
  test('renders exactly one AsyncActor (plus its helm test hook) that the webhook validation accepts', () => {
    const rendered = renders.get(file)!;
    expect(rendered.docs.filter((d) => !d.metadata.annotations?.['helm.sh/hook']).map((d) => d.kind)).toEqual(['AsyncActor']);
    const actor = actorOf(file);
    const values = parse(readFileSync(join(VALUES_DIR, file), 'utf8')) as { name: string; namespace: string; transport: string };
    expect(actor.metadata).toMatchObject({ name: values.name, namespace: values.namespace });
    expect(actor.spec.transport).toBe(values.transport);
    const { errors } = validateActor(actor, { config });
    expect(errors).toEqual([]);
  });
});

test('values reach the spec: StatefulSet claims, advanced scaling, seed defaults for scaling', () => {
  const sts = actorOf('5-statefulset.yaml');
  expect(sts.spec.workload.kind).toBe('StatefulSet');
  expect(sts.spec.workload.volumeClaimTemplates).toHaveLength(1);
  expect(actorOf('4-advanced.yaml').spec.scaling?.advanced).toEqual({ formula: 'ceil(queueLength / 10)', target: '10', activationTarget: '5', metricType: 'AverageValue' });
  // Seed 002's defaults: scaling on, 0..10, 5 messages per replica; empty advanced values left out.
  expect(actorOf('1-echo.yaml').spec.scaling).toEqual({ enabled: true, minReplicas: 0, maxReplicas: 10, pollingInterval: 10, cooldownPeriod: 60, queueLength: 5 });
  expect(actorOf('1-echo.yaml').spec.workload).toMatchObject({ kind: 'Deployment', replicas: 1, pythonExecutable: 'python3' });
  expect(actorOf('1-echo.yaml').spec.sidecar).toBeUndefined();
  expect(actorOf('1-echo.yaml').metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'r', 'app.kubernetes.io/managed-by': 'Helm' });
});

test('name and namespace default to the release; labels, annotations, sidecar and timeout are passed through', async () => {
  const rendered = new Rendered(
    await template(ACTOR_CHART, {
      release: 'my-actor',
      namespace: 'team-a',
      values: { labels: { team: 'a' }, annotations: { 'asya.sh/owner': 'team-a' }, sidecar: { image: 'sidecar:2' }, timeout: { processing: 60 }, scaling: { advanced: { restoreToOriginalReplicaCount: true } } },
    }),
  );
  const actor = rendered.get('AsyncActor') as unknown as AsyncActor;
  expect(actor.metadata).toMatchObject({ name: 'my-actor', namespace: 'team-a', labels: { team: 'a' }, annotations: { 'asya.sh/owner': 'team-a' } });
  expect(actor.spec.sidecar).toEqual({ image: 'sidecar:2' });
  expect(actor.spec.timeout).toEqual({ processing: 60 });
  expect(actor.spec.scaling?.advanced).toEqual({ restoreToOriginalReplicaCount: true });
});

test('helm test: reads back only this actor, comparing with the spec the chart rendered', () => {
  const rendered = renders.get('4-advanced.yaml')!;
  const role = rendered.get('Role') as K8sObject & { rules: unknown[] };
  expect(role.rules).toEqual([{ apiGroups: ['asya.sh'], resources: ['asyncactors'], resourceNames: ['batch-processor'], verbs: ['get'] }]);
  const pod = rendered.get('Pod') as K8sObject & { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } };
  expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
  const expected = JSON.parse(pod.spec.containers[0]!.env.find((e) => e.name === 'EXPECTED')!.value) as { spec: unknown; labels: Record<string, string> };
  expect(expected.spec).toEqual(actorOf('4-advanced.yaml').spec);
  expect(expected.labels).toEqual(actorOf('4-advanced.yaml').metadata.labels);
  const scripts = rendered.get('ConfigMap') as K8sObject & { data: Record<string, string> };
  expect(Object.keys(scripts.data)).toEqual(['actor-matches.mjs']);
});

describe('template-time checks name the value', () => {
  test.each([
    [{ scaling: { advanced: { formula: 'ceil(queueLength / 10)' } } }, 'scaling.advanced.target is required when scaling.advanced.formula is set'],
    [{ scaling: { minReplicas: 5, maxReplicas: 2 } }, 'scaling.minReplicas (5) must be <= scaling.maxReplicas (2)'],
    [{ workload: { volumeClaimTemplates: [{ metadata: { name: 'data' } }] } }, 'workload.volumeClaimTemplates needs workload.kind=StatefulSet'],
    [{ workload: { template: { spec: { containers: [{ name: 'app', image: 'x' }] } } } }, 'exactly one container named asya-runtime'],
    [{ name: 'a'.repeat(60) }, 'longer than 54 characters'],
  ])('%j', async (values, message) => {
    const res = await templateRaw(ACTOR_CHART, { values, release: 'r', namespace: 'asya' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(message);
  });
});
