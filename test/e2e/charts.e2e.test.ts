// Every document both charts render, for a matrix of values, is accepted by a real kube-apiserver in a
// server-side dry run with strict field validation (an unknown or mistyped field fails), after our CRD and the
// real cert-manager CRDs (../shared/crds) are applied. Nothing is stored.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { kubectl, kubectlOk } from './support/cluster.js';
import { ROOT as REPO, OPERATOR_CHART, runHelm, template, type K8sObject as RenderedObject } from '../integration/helm.support.js';

type K8sObject = RenderedObject & Record<string, any>;
async function renderChart(_chart: 'asya-operator', release: string, namespace: string, set: Record<string, string | boolean | number>): Promise<K8sObject[]> {
  return (await template(OPERATOR_CHART, { release, namespace, set: Object.entries(set).map(([k, v]) => `${k}=${String(v)}`) })) as K8sObject[];
}

const NS = 'asya-charts-dryrun';
const RELEASE = 'asya-dryrun';
const SHARED_CRDS = join(REPO, '..', 'shared', 'crds');

async function dryRun(objects: K8sObject[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const input = objects.map((o) => stringify(o)).join('---\n');
  return kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input });
}

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(REPO, 'manifests/crds/asya.sh_asyncactors.yaml')]);
  for (const f of readdirSync(SHARED_CRDS).filter((x) => x.startsWith('cert-manager.io_'))) {
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(SHARED_CRDS, f)]);
  }
  for (const crd of ['asyncactors.asya.sh', 'certificates.cert-manager.io', 'issuers.cert-manager.io']) {
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd}`]);
  }
  const ns = await kubectl(['create', 'namespace', NS]);
  if (ns.code !== 0 && !ns.stderr.includes('AlreadyExists')) throw new Error(ns.stderr);
}, 120_000);

const OPERATOR_CASES: Record<string, Record<string, string | boolean | number>> = {
  defaults: {},
  noCertManager: { 'certManager.enabled': false },
  clusterIssuer: { 'certManager.issuerRef.kind': 'ClusterIssuer', 'certManager.issuerRef.name': 'corp-ca' },
  sqsIrsa: {
    'transports.rabbitmq.enabled': false,
    'transports.sqs.enabled': true,
    'transports.sqs.config.region': 'eu-west-1',
    'transports.sqs.config.actorRoleArn': 'arn:aws:iam::123456789012:role/asya-actor',
    'serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn': 'arn:aws:iam::123456789012:role/asya-operator',
  },
  ha: { replicaCount: 2, 'webhook.replicaCount': 3 },
  customSidecar: { 'sidecar.image': 'registry.example.com/asya/sidecar:1.4.2', 'sidecar.native': true },
  runtimeInline: { 'runtime.source': 'inline', 'runtime.script': 'print(1)' },
  runtimeGithub: { 'runtime.source': 'github', 'runtime.github.version': 'v1.0.0' },
  noMetricsNoLeader: { 'metrics.enabled': false, 'leaderElection.enabled': false },
  outOfCluster: { 'webhook.url': 'https://127.0.0.1:9443', 'webhook.caBundle': Buffer.from('ca').toString('base64'), 'reconciler.enabled': false },
};

describe('charts/asya-operator: every rendered document passes a server-side dry run', () => {
  test.each(Object.keys(OPERATOR_CASES))('%s', async (name) => {
    const objects = await renderChart('asya-operator', RELEASE, NS, OPERATOR_CASES[name]!);
    expect(objects.length).toBeGreaterThanOrEqual(3);
    // Pods are admitted only when their ServiceAccount exists: create those for real (in this test's namespace).
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
    if (accounts.length > 0) await kubectlOk(['apply', '-f', '-'], { input: accounts.map((o) => stringify(o)).join('---\n') });
    const r = await dryRun(objects);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // One line per object: each was sent.
    expect(r.stdout.trim().split('\n')).toHaveLength(objects.length);
  }, 60_000);
});

describe('charts/asya-actor: the seed 002 examples pass a server-side dry run against the CRD', () => {
  const dir = join(REPO, 'test/golden/charts/actor-values');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  test.each(files)('%s', async (file) => {
    const res = await runHelm(['template', 'r', join(REPO, 'charts', 'asya-actor'), '--namespace', NS, '--kube-version', '1.37.2', '-f', join(dir, file), '--skip-tests']);
    expect(res.stderr).toBe('');
    const actor = parseAllDocuments(res.stdout).map((d) => d.toJS() as K8sObject).find((o) => o?.kind === 'AsyncActor')!;
    // kube-public is excluded by every webhook configuration of this chart (other e2e files may have one
    // registered): what is checked here is the CRD schema, with strict field validation.
    actor.metadata.namespace = 'kube-public';
    const r = await dryRun([actor]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);
});

describe('the dry run is strict', () => {
  test('a misspelled field in a rendered Deployment is refused, naming it', async () => {
    const objects = await renderChart('asya-operator', RELEASE, NS, {});
    const d = objects.find((o) => o.kind === 'Deployment')!;
    d.spec.template.spec.containers[0].readinesProbe = d.spec.template.spec.containers[0].readinessProbe;
    const r = await dryRun([d]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('readinesProbe');
  });

  test('a mistyped cert-manager field is refused by the real cert-manager CRD', async () => {
    const objects = await renderChart('asya-operator', RELEASE, NS, {});
    const cert = objects.find((o) => o.kind === 'Certificate' && o.spec.dnsNames)!;
    cert.spec.dnsNames = 'not-a-list';
    const r = await dryRun([cert]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('dnsNames');
  });
});
