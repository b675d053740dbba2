// Installing, upgrading and removing the product in a real API server (issue 6 item 6): `helm install/upgrade/
// uninstall` of charts/asya-operator with cert-manager on and off, of charts/asya-actor, and `kubectl apply/delete
// -f manifests/`. Before and after, every object of every listable resource type (namespaced and
// cluster-scoped) carrying the release's instance label is listed: uninstall leaves nothing but the CRD.
// No helm --wait (the chart's images are not on the e2e node and nothing is pulled: its pods stay Pending) and no
// cert-manager controller (Certificates are only stored).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';
import { verifyCertificatePem } from '../../src/check/probes.js';
import { applyObjects, cluster, deleteNamespaces, getJson, kubectl, kubectlOk, serviceAccountKubeconfig, waitFor } from './support/cluster.js';
import { byKind, helm, renderChart, REPO, type K8sObject } from './support/helm.js';
import { webhookProcess, type WebhookProcess } from './support/webhookProcess.js';

const INSTANCE = 'app.kubernetes.io/instance';

let resourceTypes: string[];

/** Every object labelled app.kubernetes.io/instance=<release>, as "Kind namespace/name" (cluster-scoped: "Kind name"). */
async function objectsOf(release: string): Promise<string[]> {
  const r = await kubectl(['get', resourceTypes.join(','), '-A', '-l', `${INSTANCE}=${release}`, '-o', 'json'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`listing objects of ${release}: ${r.stderr}`);
  const items = (JSON.parse(r.stdout) as { items: K8sObject[] }).items;
  return [...new Set(items.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`))].sort();
}

/** The objects of a rendered manifest, same format. */
function manifestObjects(yamlText: string): string[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject)
    .filter((o) => o?.kind)
    .map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`)
    .sort();
}

async function helmOk(args: string[]): Promise<string> {
  const r = await helm([...args, '--kubeconfig', cluster.kubeconfig]);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const helmKube = (args: string[]) => helm([...args, '--kubeconfig', cluster.kubeconfig]);

/** `asya-webhook check` against the installation (no webhook runs for these helm installs: there are no pods). */
function check(namespace: string, release: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'dist', 'src', 'cli', 'main.js'), 'check', '--kubeconfig', cluster.kubeconfig, '-n', namespace, '--release', release],
      { timeout: 90_000 },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout) }),
    );
  });
}

/** Pods that kube-controller-manager created for a release's Deployments (Pending: their images are not on the node). */
const podsOf = async (ns: string, release: string) => (await getJson<{ items: K8sObject[] }>(['pods', '-n', ns, '-l', `${INSTANCE}=${release}`])).items;

async function expectAllGone(release: string): Promise<void> {
  // Helm deletes its objects; the garbage collector then deletes the ReplicaSets and Pods they owned, and the
  // endpoint controllers the Endpoints/EndpointSlices of the Services.
  const left = await waitFor(`every object of ${release} to be deleted`, async () => {
    const l = await objectsOf(release);
    return l.length === 0 ? l : undefined;
  }, 60_000, 1000).catch(async (err: Error) => {
    throw new Error(`${err.message}\nleft: ${(await objectsOf(release)).join(', ')}`);
  });
  expect(left).toEqual([]);
  // The CRD stays (helm never deletes crds/; actors would go with it).
  expect((await kubectl(['get', 'crd', 'asyncactors.asya.sh'])).code).toBe(0);
}

beforeAll(async () => {
  await applyObjects([buildCrd()]);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(REPO, '..', 'shared', 'crds')]);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/asyncactors.asya.sh', 'crd/certificates.cert-manager.io', 'crd/issuers.cert-manager.io']);
  const namespaced = (await kubectlOk(['api-resources', '--verbs=list', '--namespaced=true', '-o', 'name'])).split('\n').filter(Boolean);
  const clusterScoped = (await kubectlOk(['api-resources', '--verbs=list', '--namespaced=false', '-o', 'name'])).split('\n').filter(Boolean);
  // componentstatuses is deprecated and answers with a warning only.
  resourceTypes = [...namespaced, ...clusterScoped].filter((r) => r !== 'componentstatuses');
  expect(resourceTypes).toEqual(expect.arrayContaining(['deployments.apps', 'clusterroles.rbac.authorization.k8s.io', 'certificates.cert-manager.io', 'validatingwebhookconfigurations.admissionregistration.k8s.io']));
}, 120_000);

describe('charts/asya-operator with helm', () => {
  const cleanup: Array<[string, string]> = [];
  afterAll(async () => {
    for (const [release, ns] of cleanup) {
      await helmKube(['uninstall', release, '-n', ns, '--ignore-not-found']);
      await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    }
  }, 120_000);

  test('cert-manager on: Issuers and Certificates stored, inject-ca-from on both webhook configurations; upgrade; uninstall leaves only the CRD', async () => {
    const release = 'asya-inst-cm';
    const ns = 'asya-inst-cm';
    cleanup.push([release, ns]);
    expect(await objectsOf(release)).toEqual([]);

    await helmOk(['install', release, 'charts/asya-operator', '-n', ns, '--create-namespace']);
    const manifest = await helmOk(['get', 'manifest', release, '-n', ns]);
    const expected = manifestObjects(manifest);
    // Every object helm rendered is in the API server, with the release's label.
    const installed = await objectsOf(release);
    expect(installed).toEqual(expect.arrayContaining(expected));
    expect(expected).toEqual(
      expect.arrayContaining([
        `Issuer ${ns}/${release}-asya-operator-selfsigned`,
        `Issuer ${ns}/${release}-asya-operator-ca`,
        `Certificate ${ns}/${release}-asya-operator-ca`,
        `Certificate ${ns}/${release}-asya-operator-webhook-tls`,
        `ValidatingWebhookConfiguration ${release}-asya-operator`,
        `MutatingWebhookConfiguration ${release}-asya-operator`,
      ]),
    );
    // Stored as the real cert-manager CRDs define them.
    const cert = await getJson(['certificate', '-n', ns, `${release}-asya-operator-webhook-tls`]);
    expect(cert.spec.dnsNames).toContain(`${release}-asya-operator-webhook.${ns}.svc`);
    expect(cert.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'Issuer', name: `${release}-asya-operator-ca` });
    expect((await getJson(['certificate', '-n', ns, `${release}-asya-operator-ca`])).spec.isCA).toBe(true);
    // No chart-generated Secret: cert-manager would write it.
    expect(expected.filter((o) => o.startsWith('Secret '))).toEqual([]);
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const c = await getJson([kind, `${release}-asya-operator`]);
      expect(c.metadata.annotations['cert-manager.io/inject-ca-from']).toBe(`${ns}/${release}-asya-operator-webhook-tls`);
      for (const w of c.webhooks) {
        expect(w.clientConfig.caBundle).toBeUndefined();
        expect(w.clientConfig.service).toMatchObject({ name: `${release}-asya-operator-webhook`, namespace: ns, port: 443 });
      }
    }
    // kube-controller-manager acted on the Deployments: 2 webhook pods and 1 reconciler pod (Pending).
    await waitFor('3 pods', async () => (await podsOf(ns, release)).length === 3);

    // check sees an installation waiting for cert-manager's cainjector, and cert-manager's CRDs required.
    const c = await check(ns, release);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain("no caBundle on validate.asyncactors.asya.sh (waiting for cert-manager's cainjector");
    expect(c.stdout).toContain('✔ cert-manager CRD certificates.cert-manager.io: installed');
    expect(c.stdout).toContain('✔ cert-manager CRD issuers.cert-manager.io: installed');

    // Upgrade with changed values: the configuration both processes read changes, so do the replicas.
    await helmOk(['upgrade', release, 'charts/asya-operator', '-n', ns, '--reuse-values', '--set', 'sidecar.image=registry.example.com/asya/sidecar:2.0.0', '--set', 'replicaCount=2']);
    const cfg = parse((await getJson(['configmap', '-n', ns, `${release}-asya-operator-config`])).data['config.yaml']);
    expect(cfg.sidecar.image).toBe('registry.example.com/asya/sidecar:2.0.0');
    expect((await getJson(['deployment', '-n', ns, `${release}-asya-operator-reconciler`])).spec.replicas).toBe(2);
    expect(JSON.parse(await helmOk(['history', release, '-n', ns, '-o', 'json'])).map((h: { revision: number; status: string }) => [h.revision, h.status])).toEqual([
      [1, 'superseded'],
      [2, 'deployed'],
    ]);

    await helmOk(['uninstall', release, '-n', ns]);
    await expectAllGone(release);
  }, 180_000);

  test('cert-manager off: the generated CA and serving certificate are kept across helm upgrade; uninstall leaves only the CRD', async () => {
    const release = 'asya-inst-nocm';
    const ns = 'asya-inst-nocm';
    cleanup.push([release, ns]);
    expect(await objectsOf(release)).toEqual([]);

    await helmOk(['install', release, 'charts/asya-operator', '-n', ns, '--create-namespace', '--set', 'certManager.enabled=false']);
    const secretName = `${release}-asya-operator-webhook-tls`;
    const svc = `${release}-asya-operator-webhook`;
    const before = (await getJson(['secret', '-n', ns, secretName])).data as Record<string, string>;
    expect(Object.keys(before).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    // The serving certificate is signed by the CA and valid for the Service's name.
    const pem = (k: string) => Buffer.from(before[k]!, 'base64').toString('utf8');
    expect(verifyCertificatePem(pem('tls.crt'), pem('ca.crt'), `${svc}.${ns}.svc`, new Date())).toMatchObject({ authorized: true });
    const bundles = async () => {
      const out: string[] = [];
      for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
        const c = await getJson([kind, `${release}-asya-operator`]);
        expect(c.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBeUndefined();
        out.push(...c.webhooks.map((w: { clientConfig: { caBundle: string } }) => w.clientConfig.caBundle));
      }
      return out;
    };
    expect(await bundles()).toEqual([before['ca.crt'], before['ca.crt'], before['ca.crt']]);
    expect((await helmOk(['get', 'manifest', release, '-n', ns])).includes('cert-manager.io')).toBe(false);

    // check, from outside the cluster: the Service name does not resolve here, so the certificate is read
    // from the chart's Secret and verified against the caBundle; the API server cannot call the webhook
    // (no pods run), and that is what check says.
    const c = await check(ns, release);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain(`✔ webhook certificate (service ${ns}/${svc}:443): caBundle verifies the serving certificate`);
    expect(c.stdout).toContain(`(read from Secret ${ns}/${secretName}`);
    expect(c.stdout).toContain('- cert-manager CRD certificates.cert-manager.io: not required');
    expect(c.stdout).toMatch(/✖ webhook answers the API server: the API server cannot call the webhook/);

    await helmOk(['upgrade', release, 'charts/asya-operator', '-n', ns, '--reuse-values', '--set', 'sidecar.image=registry.example.com/asya/sidecar:2.0.0', '--set', 'replicaCount=2']);
    const after = (await getJson(['secret', '-n', ns, secretName])).data;
    expect(after).toEqual(before);
    expect(await bundles()).toEqual([before['ca.crt'], before['ca.crt'], before['ca.crt']]);
    const cfg = parse((await getJson(['configmap', '-n', ns, `${release}-asya-operator-config`])).data['config.yaml']);
    expect(cfg.sidecar.image).toBe('registry.example.com/asya/sidecar:2.0.0');
    expect((await getJson(['deployment', '-n', ns, `${release}-asya-operator-reconciler`])).spec.replicas).toBe(2);
    // A second upgrade without changes keeps them too.
    await helmOk(['upgrade', release, 'charts/asya-operator', '-n', ns, '--reuse-values']);
    expect((await getJson(['secret', '-n', ns, secretName])).data).toEqual(before);

    await helmOk(['uninstall', release, '-n', ns]);
    await expectAllGone(release);
    expect((await kubectl(['get', 'secret', '-n', ns, secretName])).code).not.toBe(0);
  }, 180_000);
});

// The actor chart is installed with our webhook running (as in webhook.e2e.test.ts: a host process with the
// operator chart's arguments, configuration and RBAC, registered by URL), not without webhooks: what a user
// gets from `helm install` of an actor is what the webhook admits and defaults, and a bad value must come back
// from helm with the webhook's message. No reconciler runs: the AsyncActor is only stored.
describe('charts/asya-actor with helm, through the AsyncActor webhook', () => {
  const OP_RELEASE = 'asya-inst-op';
  const OP_NS = 'asya-inst-op';
  const NS = 'asya-inst-actors';
  let webhook: WebhookProcess | undefined;

  beforeAll(async () => {
    for (const ns of [OP_NS, NS]) await kubectl(['create', 'namespace', ns]);
    const inCluster = await renderChart('asya-operator', OP_RELEASE, OP_NS, { 'certManager.enabled': false });
    await applyObjects(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].flatMap((k) => byKind(inCluster, k)));
    const pod = byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook')!.spec.template.spec;
    const configYaml = byKind(inCluster, 'ConfigMap').find((c) => c.data?.['config.yaml'])!.data['config.yaml'] as string;
    webhook = await webhookProcess({ chartArgs: pod.containers[0].args, configYaml, kubeconfig: await serviceAccountKubeconfig(OP_NS, pod.serviceAccountName) });
    await webhook.start();
    const outOfCluster = await renderChart('asya-operator', OP_RELEASE, OP_NS, {
      'webhook.url': `https://127.0.0.1:${webhook.port}`,
      'webhook.caBundle': Buffer.from(webhook.certs.caCert).toString('base64'),
    });
    await applyObjects([...byKind(outOfCluster, 'ValidatingWebhookConfiguration'), ...byKind(outOfCluster, 'MutatingWebhookConfiguration')]);
  }, 120_000);

  afterAll(async () => {
    await helmKube(['uninstall', 'echo', '-n', NS, '--ignore-not-found']);
    await webhook?.stop();
    await kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration,clusterrole,clusterrolebinding', '-l', `${INSTANCE}=${OP_RELEASE}`, '--ignore-not-found']);
    await deleteNamespaces([OP_NS, NS]);
  }, 120_000);

  test('install: one AsyncActor, admitted and defaulted by the webhook; upgrade changes it; a bad value is refused with the webhook message; uninstall removes it', async () => {
    expect(await objectsOf('echo')).toEqual([]);
    await helmOk(['install', 'echo', 'charts/asya-actor', '-n', NS, '--set', 'scaling.maxReplicas=4']);
    expect(await objectsOf('echo')).toEqual([`AsyncActor ${NS}/echo`]);
    const a = await getJson(['asya', '-n', NS, 'echo']);
    expect(a.spec).toMatchObject({ transport: 'rabbitmq', scaling: { enabled: true, minReplicas: 0, maxReplicas: 4 }, workload: { kind: 'Deployment', pythonExecutable: 'python3' } });
    // Defaulted by the webhook (the chart does not set it).
    expect(a.spec.timeout).toEqual({ processing: 300, gracefulShutdown: 30 });
    expect(a.metadata.labels).toMatchObject({ [INSTANCE]: 'echo', 'app.kubernetes.io/managed-by': 'Helm' });

    await helmOk(['upgrade', 'echo', 'charts/asya-actor', '-n', NS, '--reuse-values', '--set', 'scaling.maxReplicas=7', '--set', 'scaling.queueLength=3']);
    const b = await getJson(['asya', '-n', NS, 'echo']);
    expect(b.spec.scaling.maxReplicas).toBe(7);
    expect(b.spec.scaling.queueLength).toBe(3);
    expect(b.metadata.generation).toBe(2);

    // spec.transport is immutable: helm reports the webhook's refusal, the stored actor is unchanged.
    const refused = await helmKube(['upgrade', 'echo', 'charts/asya-actor', '-n', NS, '--reuse-values', '--set', 'transport=sqs']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "validate.asyncactors.asya.sh" denied the request');
    expect(refused.stderr).toContain('spec.transport: is immutable (was "rabbitmq")');
    expect((await getJson(['asya', '-n', NS, 'echo'])).spec.transport).toBe('rabbitmq');

    // A new release with an invalid combination: nothing stored.
    const bad = await helmKube(['install', 'bad', 'charts/asya-actor', '-n', NS, '--set', 'transport=kafka']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.transport: transport "kafka" not found in operator configuration');
    expect((await kubectl(['get', 'asya', '-n', NS, 'bad'])).code).not.toBe(0);
    await helmKube(['uninstall', 'bad', '-n', NS, '--ignore-not-found']);

    await helmOk(['uninstall', 'echo', '-n', NS]);
    await expectAllGone('echo');
    expect((await kubectl(['get', 'asya', '-n', NS, 'echo'])).code).not.toBe(0);
    // Helm's own release records are gone too.
    expect((await kubectlOk(['get', 'secrets', '-n', NS, '-l', 'owner=helm', '-o', 'name'])).trim()).toBe('');
  }, 180_000);
});

describe('manifests/ with kubectl', () => {
  const RELEASE = 'asya-operator'; // the instance label of the generated manifests
  const file = join(REPO, 'manifests', 'asya-operator.yaml');

  afterAll(async () => {
    await kubectl(['delete', '-f', join(REPO, 'manifests'), '--ignore-not-found', '--wait=false']);
  }, 120_000);

  test('kubectl apply -f manifests/ creates every object; kubectl delete -f manifests/ leaves only the CRD', async () => {
    expect(await objectsOf(RELEASE)).toEqual([]);
    await kubectlOk(['apply', '--server-side', '-f', join(REPO, 'manifests', 'crds')]);
    await kubectlOk(['apply', '-f', join(REPO, 'manifests')]);
    const expected = manifestObjects(readFileSync(file, 'utf8')).filter((o) => !o.startsWith('Namespace '));
    expect(await objectsOf(RELEASE)).toEqual(expect.arrayContaining(expected));
    expect(expected).toEqual(expect.arrayContaining(['Certificate asya-system/asya-operator-webhook-tls', 'ValidatingWebhookConfiguration asya-operator', 'Deployment asya-system/asya-operator-webhook']));
    // Applying again changes nothing: no object gets a new resourceVersion. (kubectl still prints the
    // PodDisruptionBudget as "configured": its selector's patch strategy is replace, so the patch is never empty.)
    const versions = async () =>
      Object.fromEntries(
        (JSON.parse(await kubectlOk(['get', '-f', file, '-o', 'json'])) as { items: K8sObject[] }).items.map((o) => [`${o.kind} ${o.metadata.name}`, (o.metadata as { resourceVersion?: string }).resourceVersion]),
      );
    const first = await versions();
    expect(Object.keys(first)).toHaveLength(expected.length + 1);
    await kubectlOk(['apply', '-f', join(REPO, 'manifests')]);
    expect(await versions()).toEqual(first);

    await kubectlOk(['delete', '-f', join(REPO, 'manifests'), '--wait=true', '--timeout=90s']);
    await expectAllGone(RELEASE);
    expect((await kubectl(['get', 'namespace', 'asya-system'])).code).not.toBe(0);
  }, 180_000);
});

