// The admission webhook through a real kube-apiserver: the API server calls it with its own AdmissionReview
// encoding, timeouts and failurePolicy; kube-controller-manager acts on what it returns. The webhook runs as
// the chart runs it (same arguments, same rendered configuration, its own ServiceAccount and RBAC).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import https from 'node:https';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { applyObjects, getJson, kubectl, kubectlOk, serviceAccountKubeconfig, sleep, waitFor } from './support/cluster.js';
import { byKind, renderChart, REPO, type K8sObject } from './support/helm.js';
import { registerWebhooks, webhookProcess, type WebhookProcess } from './support/webhookProcess.js';

const RELEASE = 'asya';
const SYSTEM_NS = 'asya-system';
const NS = 'e2e-webhook';
const OTHER_NS = 'e2e-webhook-other';
/** The namespace the example actors name. */
const EXAMPLES_NS = 'asya';
const exampleFiles = (dir: string) =>
  readdirSync(join(REPO, 'examples', dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join('examples', dir, f));

let webhook: WebhookProcess;
let webhookConfigs: K8sObject[];
let inCluster: K8sObject[];
let webhookKubeconfig: string;
let webhookStartedAt = 0;

const actorYaml = (name: string, ns = NS, spec: Record<string, unknown> = {}) =>
  stringify({
    apiVersion: 'asya.sh/v1alpha1',
    kind: 'AsyncActor',
    metadata: { name, namespace: ns },
    spec: { transport: 'rabbitmq', workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] } } }, ...spec },
  });

const deploymentYaml = (name: string, labels: Record<string, string>, replicas = 2) =>
  stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] } },
    },
  });

async function podsOf(app: string): Promise<any[]> {
  return (await getJson<{ items: any[] }>(['pods', '-n', NS, '-l', `app=${app}`])).items;
}

beforeAll(async () => {
  await applyObjects([buildCrd()]);
  await kubectlOk(['apply', '--server-side', '-f', join(REPO, '..', 'shared', 'crds')]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
  for (const ns of [SYSTEM_NS, NS, OTHER_NS, EXAMPLES_NS]) await kubectl(['create', 'namespace', ns]);

  // The chart, rendered as installed in a cluster (ServiceAccounts, RBAC, configuration, the webhook's
  // arguments) and for out-of-cluster development (webhook configurations calling a URL).
  // SQS enabled as well, so that every example actor (one is an SQS actor) is admissible.
  inCluster = await renderChart('asya-operator', RELEASE, SYSTEM_NS, { 'certManager.enabled': false, 'transports.sqs.enabled': true });
  const setup = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].flatMap((k) => byKind(inCluster, k));
  await applyObjects(setup);
  const webhookDeployment = byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook')!;
  const pod = webhookDeployment.spec.template.spec;
  const configYaml = byKind(inCluster, 'ConfigMap').find((c) => c.data?.['config.yaml'])!.data['config.yaml'] as string;
  webhookKubeconfig = await serviceAccountKubeconfig(SYSTEM_NS, pod.serviceAccountName);
  webhook = await webhookProcess({ chartArgs: pod.containers[0].args, configYaml, kubeconfig: webhookKubeconfig });
  await webhook.start();
  webhookStartedAt = Date.now();

  const outOfCluster = await renderChart('asya-operator', RELEASE, SYSTEM_NS, {
    'webhook.url': `https://127.0.0.1:${webhook.port}`,
    'webhook.caBundle': Buffer.from(webhook.certs.caCert).toString('base64'),
  });
  webhookConfigs = [...byKind(outOfCluster, 'ValidatingWebhookConfiguration'), ...byKind(outOfCluster, 'MutatingWebhookConfiguration')];
  expect(webhookConfigs).toHaveLength(2);
  await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
}, 180_000);

afterAll(async () => {
  // Leave no example actors for the e2e files after this one (a reconciler there would take them on).
  await kubectl(['delete', 'asyas', '--all', '-n', EXAMPLES_NS, '--wait=false']);
  await webhook?.stop();
  await kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', '-l', 'app.kubernetes.io/instance=asya', '--ignore-not-found']);
});

describe('the CRD in a real API server', () => {
  test('kubectl explain shows our descriptions', async () => {
    const out = await kubectlOk(['explain', 'asyncactor.spec.scaling']);
    expect(out).toContain('Autoscaling of the workload by KEDA on the depth of the actor queue.');
    expect(out).toMatch(/queueLength\s+<integer>/);
    expect(out).toContain('Target messages per replica');
  });
  test('kubectl get asyas has the seed columns, -o wide the extra ones', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('columns') });
    const plain = (await kubectlOk(['get', 'asyas', '-n', NS, 'columns'])).split('\n')[0]!;
    expect(plain.split(/\s+/).filter(Boolean)).toEqual(['NAME', 'STATUS', 'RUNNING', 'PENDING', 'FAILING', 'MIN', 'MAX', 'LAST-SCALE', 'AGE']);
    const wide = (await kubectlOk(['get', 'asya', '-n', NS, 'columns', '-o', 'wide'])).split('\n')[0]!;
    expect(wide.split(/\s+/).filter(Boolean)).toEqual([
      'NAME', 'STATUS', 'RUNNING', 'PENDING', 'FAILING', 'MIN', 'MAX', 'LAST-SCALE', 'AGE', 'DESIRED', 'WORKLOAD', 'TRANSPORT', 'SCALING', 'QUEUED', 'PROCESSING', 'DIRECTION',
    ]);
  });
});

describe('AsyncActor admission through the API server', () => {
  test('a valid actor is admitted and comes back defaulted', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('valid') });
    const a = await getJson(['asya', '-n', NS, 'valid']);
    expect(a.spec.scaling).toEqual({ enabled: false, minReplicas: 0, maxReplicas: 50, pollingInterval: 10, cooldownPeriod: 60, queueLength: 5 });
    expect(a.spec.workload).toMatchObject({ kind: 'Deployment', replicas: 1, pythonExecutable: 'python3' });
    expect(a.spec.timeout).toEqual({ processing: 300, gracefulShutdown: 30 });
  });

  test('an invalid actor is refused by kubectl apply with every violation', async () => {
    const r = await kubectl(['apply', '-f', '-'], {
      input: actorYaml('invalid', NS, {
        transport: 'kafka',
        scaling: { minReplicas: 5, maxReplicas: 2, advanced: { formula: 'ceil(queueLength / 10)' } },
        workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'x', command: ['python', 'app.py'] }, { name: 'asya-sidecar', image: 'y' }] } } },
      }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admission webhook "validate.asyncactors.asya.sh" denied the request');
    for (const line of [
      'spec.transport: transport "kafka" not found in operator configuration',
      'spec.scaling.minReplicas: must be <= spec.scaling.maxReplicas (2)',
      'spec.scaling.advanced.target: is required when spec.scaling.advanced.formula is set',
      'spec.workload.template.spec.containers[0].command: must not be set',
      'spec.workload.template.spec.containers[1].name: "asya-sidecar" is reserved',
    ]) expect(r.stderr).toContain(line);
    expect((await kubectl(['get', 'asya', '-n', NS, 'invalid'])).code).not.toBe(0);
  });

  test('the deprecated workload.type is converted to kind and the warning reaches kubectl', async () => {
    const r = await kubectl(['apply', '-f', '-'], {
      input: actorYaml('legacy-type', NS, { workload: { type: 'StatefulSet', template: { spec: { containers: [{ name: 'asya-runtime', image: 'x' }] } } } }),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Warning: spec.workload.type is deprecated: converted to spec.workload.kind: StatefulSet/);
    const a = await getJson(['asya', '-n', NS, 'legacy-type']);
    expect(a.spec.workload.kind).toBe('StatefulSet');
    expect(a.spec.workload.type).toBeUndefined();
  });

  test('spec.transport cannot change', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('immutable') });
    const r = await kubectl(['patch', 'asya', 'immutable', '-n', NS, '--type=merge', '-p', '{"spec":{"transport":"sqs"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.transport: is immutable (was "rabbitmq")');
    const ok = await kubectl(['patch', 'asya', 'immutable', '-n', NS, '--type=merge', '-p', '{"spec":{"scaling":{"maxReplicas":7}}}']);
    expect(ok.code).toBe(0);
  });

  test("an actor reusing another namespace's queue is refused (the webhook's informer cache sees the first)", async () => {
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('shared-name', NS) });
    const r = await waitFor('the cache to see shared-name', async () => {
      const res = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: actorYaml('shared-name', OTHER_NS) });
      return res.code !== 0 ? res : undefined;
    }, 15_000);
    expect(r.stderr).toContain(`queue "asya-shared-name" on transport "rabbitmq" is already used by actor ${NS}/shared-name`);
  });
});

describe('the examples through the API server', () => {
  test.each(exampleFiles('actors'))('%s is admitted and comes back defaulted', async (file) => {
    const out = JSON.parse(await kubectlOk(['apply', '-o', 'json', '-f', join(REPO, file)]));
    expect(out.spec.timeout).toEqual(expect.objectContaining({ processing: expect.any(Number), gracefulShutdown: expect.any(Number) }));
    expect(out.spec.workload.kind).toMatch(/^(Deployment|StatefulSet)$/);
    expect(out.spec.scaling.maxReplicas).toEqual(expect.any(Number));
  });

  // Each file names the violations it must produce (# expect: <field path>: <message>). Our webhook's
  // answer carries them word for word; a type error is refused earlier by the CRD schema, whose message
  // names the same field path.
  test.each(exampleFiles('invalid'))('%s is refused with its documented messages', async (file) => {
    const text = readFileSync(join(REPO, file), 'utf8');
    const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]!);
    expect(expected.length).toBeGreaterThan(0);
    const r = await kubectl(['apply', '-f', join(REPO, file)]);
    expect(r.code).not.toBe(0);
    if (r.stderr.includes('admission webhook "validate.asyncactors.asya.sh" denied the request')) {
      for (const line of expected) expect(r.stderr).toContain(line);
    } else {
      for (const line of expected) expect(r.stderr).toContain(line.slice(0, line.indexOf(':')));
    }
  });
});

describe('pod injection through the API server and kube-controller-manager', () => {
  test('pods of an actor Deployment are stored with the sidecar, socket volume, runtime mount and command; the ReplicaSet keeps its count', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('injected') });
    await kubectlOk(['apply', '-f', '-'], { input: deploymentYaml('injected', { 'asya.sh/actor': 'injected' }, 2) });
    const pods = await waitFor('2 pods', async () => {
      const p = await podsOf('injected');
      return p.length >= 2 ? p : undefined;
    });
    for (const pod of pods) {
      const names = pod.spec.containers.map((c: { name: string }) => c.name);
      expect(names).toEqual(['asya-runtime', 'asya-sidecar']);
      const runtime = pod.spec.containers[0];
      expect(runtime.command).toEqual(['python3', '/opt/asya/asya_runtime.py']);
      expect(runtime.volumeMounts.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['socket-dir', 'asya-runtime']));
      expect(pod.spec.volumes.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['socket-dir', 'tmp', 'asya-runtime']));
      expect(pod.metadata.labels['pod-template-hash']).toBeDefined();
      expect(pod.metadata.annotations['asya.sh/injection-status']).toBeDefined();
      const password = pod.spec.containers[1].env.find((e: { name: string }) => e.name === 'ASYA_RABBITMQ_PASSWORD');
      if (password) expect(password.valueFrom.secretKeyRef).toBeDefined();
    }
    // The ReplicaSet controller is satisfied by what admission returned: no pods created without end.
    await sleep(4000);
    expect(await podsOf('injected')).toHaveLength(2);
    const rs = (await getJson<{ items: any[] }>(['rs', '-n', NS, '-l', 'app=injected'])).items;
    expect(rs).toHaveLength(1);
    expect(rs[0].status.replicas).toBe(2);
  });

  test('a dry-run create is injected the same way and stores nothing', async () => {
    const pod = stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'dry', namespace: NS, labels: { 'asya.sh/actor': 'injected' } }, spec: { containers: [{ name: 'asya-runtime', image: 'x' }] } });
    const out = JSON.parse(await kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: pod }));
    expect(out.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime', 'asya-sidecar']);
    expect((await kubectl(['get', 'pod', '-n', NS, 'dry'])).code).not.toBe(0);
  });

  test('a pod that is not an actor pod is stored unchanged', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: deploymentYaml('plain', {}, 1) });
    const pods = await waitFor('1 pod', async () => ((await podsOf('plain')).length === 1 ? podsOf('plain') : undefined));
    expect(pods[0].spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime']);
    expect(pods[0].metadata.annotations?.['asya.sh/injection-status']).toBeUndefined();
  });

  test('a pod of an unknown actor is refused with the reason', async () => {
    const pod = stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ghost', namespace: NS, labels: { 'asya.sh/actor': 'ghost' } }, spec: { containers: [{ name: 'asya-runtime', image: 'x' }] } });
    const r = await kubectl(['create', '-f', '-'], { input: pod });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('denied the request: no AsyncActor of that name in the namespace');
  });
});

describe('native sidecar mode (sidecar.native: true)', () => {
  test('the API server accepts the sidecar as an init container with restartPolicy Always', async () => {
    const chartArgs = byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook')!.spec.template.spec.containers[0].args;
    const configYaml = byKind(inCluster, 'ConfigMap').find((c) => c.data?.['config.yaml'])!.data['config.yaml'] as string;
    expect(configYaml).toMatch(/native: false/);
    const native = await webhookProcess({ chartArgs, configYaml: configYaml.replace(/native: false/, 'native: true'), kubeconfig: webhookKubeconfig });
    await native.start();
    await registerWebhooks(webhookConfigs, `https://127.0.0.1:${native.port}`, native.certs.caCert);
    try {
      const pod = stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'native', namespace: NS, labels: { 'asya.sh/actor': 'injected' } }, spec: { containers: [{ name: 'asya-runtime', image: 'x' }] } });
      await kubectlOk(['create', '-f', '-'], { input: pod });
      const stored = await getJson(['pod', '-n', NS, 'native']);
      expect(stored.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime']);
      expect(stored.spec.initContainers).toEqual([expect.objectContaining({ name: 'asya-sidecar', restartPolicy: 'Always' })]);
    } finally {
      await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
      await native.stop();
    }
  });
});

describe('when the webhook is down or misbehaves (failurePolicy of the chart)', () => {
  const plainPod = (name: string) => stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: 'plain-direct' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
  const actorPod = (name: string) =>
    stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { 'asya.sh/actor': 'injected' } }, spec: { containers: [{ name: 'asya-runtime', image: 'x' }] } });

  async function expectNonActorPodsUnaffectedAndActorPodsRefused(tag: string, actorError: RegExp): Promise<void> {
    const started = Date.now();
    const plain = await kubectl(['create', '-f', '-'], { input: plainPod(`plain-${tag}`) });
    expect(plain.code).toBe(0);
    // Not even delayed: the objectSelector keeps non-actor pods away from the webhook.
    expect(Date.now() - started).toBeLessThan(3000);
    const actor = await kubectl(['create', '-f', '-'], { input: actorPod(`actor-${tag}`) });
    expect(actor.code).not.toBe(0);
    expect(actor.stderr).toMatch(actorError);
    expect((await kubectl(['get', 'pod', '-n', NS, `actor-${tag}`])).code).not.toBe(0);
  }

  test('webhook stopped: non-actor pods are created, actor pods refused (never admitted without sidecar)', async () => {
    await webhook.stop();
    try {
      await expectNonActorPodsUnaffectedAndActorPodsRefused('stopped', /failed calling webhook "inject.pods.asya.sh".*connection refused/s);
    } finally {
      await webhook.start();
      webhookStartedAt = Date.now();
    }
  });

  test('a webhook that hangs past timeoutSeconds', async () => {
    const { port, close } = await fakeWebhook(() => undefined); // never answers
    await registerWebhooks(webhookConfigs, `https://127.0.0.1:${port}`, fakeCerts.caCert);
    try {
      await expectNonActorPodsUnaffectedAndActorPodsRefused('hang', /failed calling webhook "inject.pods.asya.sh".*(context deadline exceeded|timeout)/is);
    } finally {
      await close();
      await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
    }
  }, 60_000);

  test('a webhook that answers garbage', async () => {
    const { port, close } = await fakeWebhook((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"this is": not json'));
    await registerWebhooks(webhookConfigs, `https://127.0.0.1:${port}`, fakeCerts.caCert);
    try {
      await expectNonActorPodsUnaffectedAndActorPodsRefused('garbage', /failed calling webhook "inject.pods.asya.sh"/);
    } finally {
      await close();
      await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
    }
  });

  test('a webhook with a certificate the caBundle does not trust', async () => {
    // Our real webhook, registered with another CA.
    await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, fakeCerts.caCert);
    try {
      await expectNonActorPodsUnaffectedAndActorPodsRefused('badcert', /failed calling webhook "inject.pods.asya.sh".*(x509|certificate)/is);
    } finally {
      await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
    }
  });

  test('back to normal: actor pods are injected again', async () => {
    const r = await kubectl(['create', '-f', '-'], { input: actorPod('actor-after') });
    expect(r.code).toBe(0);
    const p = await getJson(['pod', '-n', NS, 'actor-after']);
    expect(p.spec.containers.map((c: { name: string }) => c.name)).toContain('asya-sidecar');
  });
});

describe('the actor cache stays live', () => {
  // client-node 2.0.0 aborted every watch after 30 s (kubernetes-client/javascript#3020); the informer must
  // still deliver new actors well after that, whether the watch survived or was re-established.
  test('an actor created more than 45 s after start-up is seen by the webhook', async () => {
    const wait = webhookStartedAt + 45_000 - Date.now();
    if (wait > 0) await sleep(wait);
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('late-actor', NS) });
    const r = await waitFor('the cache to see late-actor', async () => {
      const res = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: actorYaml('late-actor', OTHER_NS) });
      return res.code !== 0 ? res : undefined;
    }, 15_000);
    expect(r.stderr).toContain(`already used by actor ${NS}/late-actor`);
  }, 90_000);
});

describe('RBAC: the webhook runs with exactly the chart role', () => {
  test('its ServiceAccount can watch AsyncActors but not read Secrets or delete anything', async () => {
    const sa = byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook')!.spec.template.spec.serviceAccountName;
    const as = ['--as', `system:serviceaccount:${SYSTEM_NS}:${sa}`];
    const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, ...as])).stdout.trim();
    expect(await can('watch', 'asyncactors.asya.sh', '--all-namespaces')).toBe('yes');
    expect(await can('list', 'asyncactors.asya.sh', '--all-namespaces')).toBe('yes');
    expect(await can('get', 'secrets', '-n', NS)).toBe('no');
    expect(await can('delete', 'pods', '-n', NS)).toBe('no');
    expect(await can('update', 'asyncactors.asya.sh', '-n', NS)).toBe('no');
    // And the webhook, running under that account, synced its cache (it answered the tests above).
    expect(readFileSync(webhook.logFile, 'utf8')).toContain('informer synced');
  });
});

// Last in this file: it deletes the CRD (and so every AsyncActor) and brings it back.
describe('the actor informer recovers when its watch stops', () => {
  test('after the CRD is deleted and re-created, the webhook sees new actors again', async () => {
    // Actors some reconciler left a finalizer on would hold the CRD's deletion: release them first.
    const left = (await getJson<{ items: any[] }>(['asyas', '-A'])).items.filter((a) => (a.metadata.finalizers ?? []).length > 0);
    for (const a of left) await kubectl(['patch', 'asya', a.metadata.name, '-n', a.metadata.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await kubectlOk(['delete', 'crd', 'asyncactors.asya.sh', '--timeout=60s']);
    // The watch ends and listing fails (404): the informer retries with capped backoff, never gives up.
    await waitFor('the webhook to see its informer fail', async () => readFileSync(webhook.logFile, 'utf8').includes('informer failed, retrying'), 30_000);
    await applyObjects([buildCrd()]);
    await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
    await kubectlOk(['apply', '-f', '-'], { input: actorYaml('after-recovery', NS) });
    const r = await waitFor(
      'the restarted informer to see after-recovery',
      async () => {
        const res = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: actorYaml('after-recovery', OTHER_NS) });
        return res.code !== 0 && res.stderr.includes('after-recovery') ? res : undefined;
      },
      60_000,
      1000,
    );
    expect(r.stderr).toContain(`already used by actor ${NS}/after-recovery`);
  }, 150_000);
});

const fakeCerts = generateCertificates({ hosts: ['127.0.0.1', 'localhost'] });
async function fakeWebhook(answer: (res: import('node:http').ServerResponse) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server = https.createServer({ cert: fakeCerts.cert, key: fakeCerts.key }, (req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as import('node:net').AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
