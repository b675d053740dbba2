// values.schema.json of both charts, through the real helm: a misspelled or mistyped value fails the install
// with a message naming it. And the operator chart's schema for transports and the sidecar stays in step with
// the configuration schema the processes load (src/config/schema.ts), so what helm accepts the loader accepts.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { OperatorConfigSchema } from '../../src/config/schema.js';
import { RabbitmqConfigSchema } from '../../src/transports/rabbitmq/config.js';
import { SqsConfigSchema } from '../../src/transports/sqs/config.js';
import { ACTOR_CHART, OPERATOR_CHART, templateRaw } from './helm.support.js';

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  allOf?: Array<{ if: JsonSchema; then: JsonSchema }>;
  [k: string]: unknown;
}
const operatorSchema = JSON.parse(readFileSync(join(OPERATOR_CHART, 'values.schema.json'), 'utf8')) as JsonSchema;

describe('asya-operator: values.schema.json refuses bad values, naming them', () => {
  test.each([
    // [--set ..., text the error must contain]
    [['replicaCont=2'], 'replicaCont'],
    [['webhook.replicas=3'], 'replicas'],
    [['certManager.enable=false'], 'enable'],
    [['transports.rabbitmq.config.hots=rabbit.example'], 'hots'],
    [['sidecar.imagePullPolicy=Sometimes'], '/sidecar/imagePullPolicy'],
    [['webhook.failurePolicy.pods=Ignored'], '/webhook/failurePolicy/pods'],
    [['webhook.timeoutSeconds=60'], '/webhook/timeoutSeconds'],
    [['replicaCount=two'], '/replicaCount'],
    [['leaderElection.enabled=maybe'], '/leaderElection/enabled'],
    [['transports.rabbitmq.type=kafka'], '/transports/rabbitmq/type'],
    [['transports.sqs.config.visibilityTimeout=-1'], '/transports/sqs/config/visibilityTimeout'],
    [['transports.Bad_Name.type=sqs'], 'Bad_Name'],
    [['runtime.source=s3'], '/runtime/source'],
    [['webhook.url=http://insecure:80'], '/webhook/url'],
    [['image.digest=latest'], '/image/digest'],
    [['certManager.duration=90 days'], '/certManager/duration'],
  ])('--set %j', async (set, named) => {
    const r = await templateRaw(OPERATOR_CHART, { set });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(named);
  });

  test('the values that seed 001 and seed 003 document are accepted', async () => {
    const r = await templateRaw(OPERATOR_CHART, {
      set: [
        'runtime.source=local',
        'runtime.local.path=/etc/asya-runtime/asya_runtime.py',
        'runtime.namespace=asya',
        'serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/asya-operator',
        'transports.sqs.enabled=true',
        'transports.sqs.config.region=us-east-1',
        'transports.sqs.config.actorRoleArn=arn:aws:iam::1:role/asya-actor',
        'transports.rabbitmq.config.passwordSecretRef.name=rabbitmq-secret',
        'transports.rabbitmq.config.passwordSecretRef.key=password',
        'sidecar.image=asya-sidecar:latest',
        'sidecar.defaultResources.limits.cpu=500m',
        'leaderElection.enabled=true',
        'metrics.enabled=true',
        'metrics.port=8080',
        'health.port=8081',
        'image.tag=dev',
        'image.pullPolicy=Never',
        'rbac.create=true',
        'serviceAccount.create=true',
        'replicaCount=1',
      ],
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('asya-actor: values.schema.json refuses bad values, naming them', () => {
  test.each([
    [['scaling.maxReplica=3'], 'maxReplica'],
    [['scaling.minReplicas=-1'], '/scaling/minReplicas'],
    [['workload.kind=Job'], '/workload/kind'],
    [['scaling.advanced.metricType=Average'], '/scaling/advanced/metricType'],
    [['name=My_Actor'], '/name'],
    [['workload.replica=2'], 'replica'],
  ])('--set %j', async (set, named) => {
    const r = await templateRaw(ACTOR_CHART, { set, release: 'my-actor', namespace: 'asya' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(named);
  });
});

describe('the operator schema follows the configuration schema (src/config/schema.ts)', () => {
  const keys = (s: TSchema | JsonSchema | undefined) => Object.keys((s as JsonSchema | undefined)?.properties ?? {}).sort();
  const transportThen = (type: string) => {
    const entry = (operatorSchema.properties!.transports!.additionalProperties as JsonSchema).allOf!;
    return entry.find((a) => (a.if.properties!.type as { const: string }).const === type)!.then.properties!.config!;
  };

  test('transport config keys: exactly those of the RabbitMQ and SQS config schemas', () => {
    expect(keys(transportThen('rabbitmq'))).toEqual(keys(RabbitmqConfigSchema));
    expect(keys(transportThen('sqs'))).toEqual(keys(SqsConfigSchema));
    expect(transportThen('rabbitmq').additionalProperties).toBe(false);
  });

  test('sidecar keys: exactly those of the configuration sidecar block', () => {
    const cfgSidecar = (OperatorConfigSchema as unknown as JsonSchema).properties!.sidecar;
    expect(keys(operatorSchema.properties!.sidecar)).toEqual(keys(cfgSidecar));
  });

  test('every object of the schema is closed, except free-form Kubernetes fields', () => {
    const open: string[] = [];
    const walk = (s: JsonSchema, path: string) => {
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) open.push(path);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`);
    };
    walk(operatorSchema, '');
    expect(open).toEqual([]);
    // Free-form on purpose (Kubernetes types): e.g. resources maps, affinity, security contexts.
    expect(operatorSchema.properties!.webhook!.properties!.affinity!.additionalProperties).toBeUndefined();
  });
});
