// values.schema.json of both charts, through the real helm: a misspelled or mistyped value fails the install
// with a message naming it. The parts that are the operator configuration or the actor spec are generated from
// their TypeBox schemas (src/charts/valuesSchema.ts), so what helm accepts the loader and the CRD accept.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { actorValuesSchemaParts, operatorSidecarValuesSchema, operatorTransportsValuesSchema } from '../../src/charts/valuesSchema.js';
import { ACTOR_CHART, OPERATOR_CHART, parseDocs, templateRaw } from './helm.support.js';

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
    [['sidecar.imagePullPolicy=Sometimes'], '/sidecar/imagePullPolicy'],
    [['sidecar.envs[0].name=X'], 'envs'],
    [['sidecar.image='], '/sidecar/image'],
    [['timeout.processing=0'], '/timeout/processing'],
    [['timeout.gracefulShutdown=-1'], '/timeout/gracefulShutdown'],
    [['transport='], '/transport'],
  ])('--set %j', async (set, named) => {
    const r = await templateRaw(ACTOR_CHART, { set, release: 'my-actor', namespace: 'asya' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(named);
  });
});

describe('the charts do not retype the configuration or the actor spec (src/charts/valuesSchema.ts)', () => {
  const actorSchema = JSON.parse(readFileSync(join(ACTOR_CHART, 'values.schema.json'), 'utf8')) as JsonSchema;

  // generate-manifests --check (helm.manifests.test.ts) says the same for the whole file; this names the part.
  test('asya-operator: transports and sidecar are the generated parts', () => {
    expect(operatorSchema.properties!.transports).toEqual(operatorTransportsValuesSchema());
    expect(operatorSchema.properties!.sidecar).toEqual(operatorSidecarValuesSchema());
  });

  test('asya-actor: transport, sidecar and timeout are the AsyncActor spec\'s', () => {
    for (const [key, schema] of Object.entries(actorValuesSchemaParts())) expect(actorSchema.properties![key]).toEqual(schema);
  });

  test('what the chart accepts the configuration loader accepts: the rendered ConfigMap of non-default values loads', async () => {
    const r = await templateRaw(OPERATOR_CHART, {
      set: [
        'transports.sqs.enabled=true',
        'transports.sqs.config.endpoint=http://sqs.local:4566',
        'transports.sqs.config.credentialsSecretRef.name=aws',
        'transports.rabbitmq.config.vhost=asya',
        'transports.rabbitmq.config.tls=true',
        'transports.rabbitmq.config.deadLetter.enabled=true',
        'sidecar.native=true',
        'sidecar.logLevel=debug',
      ],
    });
    expect(r.stderr).toBe('');
    const cm = parseDocs(r.stdout).find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-config')) as unknown as { data: Record<string, string> };
    const cfg = parseConfigText(cm.data['config.yaml']!);
    expect(cfg.transports.sqs!.config).toMatchObject({ endpoint: 'http://sqs.local:4566', credentialsSecretRef: { name: 'aws', accessKeyIdKey: 'AWS_ACCESS_KEY_ID' } });
    expect(cfg.sidecar).toMatchObject({ native: true, logLevel: 'debug' });
  });

  test('every object of the operator schema is closed, except free-form Kubernetes fields', () => {
    const open: string[] = [];
    const walk = (s: JsonSchema, path: string) => {
      if (s.type === 'object' && s.properties && s.additionalProperties !== false && !s['x-kubernetes-preserve-unknown-fields']) open.push(path);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`);
    };
    walk(operatorSchema, '');
    expect(open).toEqual([]);
    // Free-form on purpose (Kubernetes types): e.g. resources maps, affinity, security contexts.
    expect(operatorSchema.properties!.webhook!.properties!.affinity!.additionalProperties).toBeUndefined();
  });
});
