// The reconciler through a real kube-apiserver, kube-controller-manager and KEDA operator, with a real RabbitMQ
// and an SQS emulator (moto): every link of AsyncActor -> queue -> workload -> ScaledObject -> HPA -> pods is
// the real component's. The reconciler and the webhook run as the chart runs them: the chart's arguments and
// rendered configuration (loopback brokers, a host path for the password file), each with its own
// ServiceAccount token bound by the chart's RBAC, never as admin.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import amqp from 'amqplib';
import { GetQueueUrlCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';
import { MotoServer } from '../support/moto.js';
import { RabbitNode, queueExists, withChannel } from '../support/rabbitmq.js';
import { apiserverMetrics, deltas, dispatchedByFlowSchema, flowSchema, writesByResource } from './support/apiCounts.js';
import { applyObjects, cluster, deleteNamespaces, getJson, kubectl, kubectlOk, releaseActors, serviceAccountKubeconfig, sleep, waitFor } from './support/cluster.js';
import { byKind, renderChart, REPO, type K8sObject } from './support/helm.js';
import { reconcilerProcess, type ReconcilerProcess } from './support/reconcilerProcess.js';
import { registerWebhooks, webhookProcess, type WebhookProcess } from './support/webhookProcess.js';

const RELEASE = 'asyarec';
const SYSTEM_NS = 'asyarec-system';
const NS = 'e2e-reconciler';
const RESYNC_S = 30;
const FLOW = { events: 'asyarec-reconciler-events', writes: 'asyarec-reconciler-writes' };
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

let rabbit: RabbitNode;
let moto: MotoServer;
let webhook: WebhookProcess;
let reconciler: ReconcilerProcess;
let reconcilerSA: string;
let reconcilerKubeconfig: string;
let configYaml: string;
let webhookConfigs: K8sObject[];
let clusterScoped: K8sObject[] = [];
let amqpConn: amqp.ChannelModel;

const runtimeContainer = { name: 'asya-runtime', image: 'python:3.13-slim' };
const actor = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name, namespace: NS },
  spec: { transport: 'rabbitmq', workload: { template: { spec: { containers: [runtimeContainer] } } }, ...spec },
});
const ACTORS = {
  // Scaled by KEDA from zero on the depth of its RabbitMQ queue.
  rq: actor('rec-rq', { scaling: { enabled: true, minReplicas: 0, maxReplicas: 2, pollingInterval: 2, cooldownPeriod: 300, queueLength: 5 } }),
  // A StatefulSet with a claim per replica, kept at one replica by KEDA.
  sts: actor('rec-sts', {
    scaling: { enabled: true, minReplicas: 1, maxReplicas: 2, pollingInterval: 5, queueLength: 5 },
    workload: {
      kind: 'StatefulSet',
      template: { spec: { containers: [{ ...runtimeContainer, volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'cache' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  }),
  // SQS (moto) with KEDA's aws-sqs-queue trigger and static credentials from a Secret.
  sqs: actor('rec-sqs', { transport: 'sqs', scaling: { enabled: true, minReplicas: 0, maxReplicas: 1, pollingInterval: 5, queueLength: 5 } }),
  // No scaling: a fixed replica count, for the pods the webhook injects (and the recycling of those it could not).
  fixed: actor('rec-fixed', { workload: { replicas: 1, template: { spec: { containers: [runtimeContainer] } } } }),
};

const podsOf = async (actorName: string): Promise<any[]> => (await getJson<{ items: any[] }>(['pods', '-n', NS, '-l', `asya.sh/actor=${actorName}`])).items;
const condition = (a: any, type: string) => (a.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
const getActor = (name: string) => getJson(['asya', '-n', NS, name]);
/** The object, or undefined while it does not exist. */
const getIfExists = async (args: string[]): Promise<any> => ((await kubectl(['get', ...args])).code === 0 ? getJson(args) : undefined);

async function allReady(name: string): Promise<any> {
  return waitFor(
    `actor ${name} ready`,
    async () => {
      const a = await getActor(name);
      return ['TransportReady', 'WorkloadReady', 'ScalingReady'].every((t) => condition(a, t)?.status === 'True') ? a : undefined;
    },
    90_000,
    500,
  );
}


/** The chart's configuration file as the reconciler reads it on this machine, with `override` merged into reconciler:. */
function hostConfig(override: Record<string, unknown> = {}, runtime?: Record<string, unknown>): string {
  const cfg = parse(configYaml);
  cfg.transports.rabbitmq.config.passwordFile = join(reconciler?.dir ?? '/nonexistent', 'rabbitmq-password');
  Object.assign(cfg.reconciler, override);
  if (runtime) Object.assign(cfg.runtime, runtime);
  return stringify(cfg);
}

/** Events of the reconciler (reportingComponent asya-reconciler) in NS. */
async function reconcilerEvents(): Promise<any[]> {
  return (await getJson<{ items: any[] }>(['events', '-n', NS])).items.filter((e) => e.reportingComponent === 'asya-reconciler');
}

beforeAll(async () => {
  [rabbit, moto] = await Promise.all([RabbitNode.start(), MotoServer.start()]);
  amqpConn = await amqp.connect(rabbit.url);
  amqpConn.on('error', () => undefined);

  await applyObjects([buildCrd()]);
  await kubectlOk(['apply', '--server-side', '-f', join(REPO, '..', 'shared', 'crds')]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', 'crd/scaledobjects.keda.sh', '--timeout=30s']);
  for (const ns of [SYSTEM_NS, NS]) await kubectl(['create', 'namespace', ns]);

  // The chart, with its brokers on this machine's loopback and the SQS transport enabled against moto.
  const values = {
    'certManager.enabled': false,
    'transports.rabbitmq.config.host': '127.0.0.1',
    'transports.rabbitmq.config.port': rabbit.port,
    'transports.sqs.enabled': true,
    'transports.sqs.config.endpoint': moto.endpoint,
    'transports.sqs.config.queueBaseURL': `${moto.endpoint}/123456789012`,
    'transports.sqs.config.credentialsSecretRef.name': 'aws-credentials',
    'reconciler.resyncPeriodSeconds': RESYNC_S,
  };
  const inCluster = await renderChart('asya-operator', RELEASE, SYSTEM_NS, values);
  const setup = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].flatMap((k) => byKind(inCluster, k));
  clusterScoped = setup.filter((o) => o.kind.startsWith('Cluster'));
  await applyObjects(setup);
  configYaml = byKind(inCluster, 'ConfigMap').find((c) => c.data?.['config.yaml'])!.data['config.yaml'] as string;
  const component = (c: string) => byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === c)!.spec.template.spec;

  // Secrets in the actor namespace, as a user creates them: RabbitMQ for KEDA and the sidecars, AWS for KEDA.
  await applyObjects([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: NS }, stringData: { username: 'guest', password: 'guest' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-credentials', namespace: NS }, stringData: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
  ]);

  const webhookPod = component('webhook');
  webhook = await webhookProcess({ chartArgs: webhookPod.containers[0].args, configYaml, kubeconfig: await serviceAccountKubeconfig(SYSTEM_NS, webhookPod.serviceAccountName) });
  await webhook.start();
  const outOfCluster = await renderChart('asya-operator', RELEASE, SYSTEM_NS, {
    ...values,
    'webhook.url': `https://127.0.0.1:${webhook.port}`,
    'webhook.caBundle': Buffer.from(webhook.certs.caCert).toString('base64'),
  });
  webhookConfigs = [...byKind(outOfCluster, 'ValidatingWebhookConfiguration'), ...byKind(outOfCluster, 'MutatingWebhookConfiguration')];
  expect(webhookConfigs).toHaveLength(2);
  clusterScoped.push(...webhookConfigs);
  await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);

  const reconcilerPod = component('reconciler');
  reconcilerSA = reconcilerPod.serviceAccountName;
  reconcilerKubeconfig = await serviceAccountKubeconfig(SYSTEM_NS, reconcilerSA);
  // The reconciler's own writes in this file's namespace, counted by the API server (apiCounts.ts): Events
  // first (the lower precedence wins), then every other write. Other files' namespaces (still terminating, with
  // actors this reconciler finalizes) and other clients (KEDA, the controllers, kubelet) are not in them.
  const sa = { namespace: SYSTEM_NS, name: reconcilerSA };
  const flows = [
    flowSchema(FLOW.events, sa, { verbs: WRITE_VERBS, apiGroups: ['', 'events.k8s.io'], resources: ['events'], namespaces: [NS] }, 400),
    flowSchema(FLOW.writes, sa, { verbs: WRITE_VERBS, namespaces: [NS] }, 401),
  ];
  await applyObjects(flows);
  clusterScoped.push(...(flows as K8sObject[]));
  reconciler = await reconcilerProcess({
    chartArgs: reconcilerPod.containers[0].args,
    configYaml: '',
    kubeconfig: reconcilerKubeconfig,
    // The downward API of the chart's pod, and the static AWS credentials of a reconciler outside AWS.
    env: { POD_NAME: `${RELEASE}-reconciler-e2e`, POD_NAMESPACE: SYSTEM_NS, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
  });
  writeFileSync(join(reconciler.dir, 'rabbitmq-password'), 'guest');
  // As rendered: runtime.source=local with no script at runtime.scriptPath on this machine.
  expect(parse(configYaml).runtime.scriptPath).toBe('/etc/asya-runtime/asya_runtime.py');
  await reconciler.start(hostConfig());
  await applyObjects(Object.values(ACTORS));
}, 240_000);

afterAll(async () => {
  await kubectl(['delete', 'asyncactors', '--all', '-n', NS, '--wait=true', '--timeout=60s']);
  await reconciler?.stop();
  // This reconciler watched every namespace: nothing finalizes what it left (support/cluster.ts).
  await releaseActors();
  await webhook?.stop();
  for (const o of clusterScoped) await kubectl(['delete', o.kind.toLowerCase(), o.metadata.name, '--ignore-not-found']);
  await deleteNamespaces([NS, SYSTEM_NS]);
  await amqpConn?.close().catch(() => undefined);
  await Promise.all([rabbit?.destroy(), moto?.stop()]);
}, 120_000);

describe('an AsyncActor applied with kubectl becomes running infrastructure', () => {
  test('RabbitMQ: the durable queue, the Deployment, the ScaledObject and TriggerAuthentication KEDA reports Ready, the finalizer', async () => {
    const a = await allReady('rec-rq');
    expect(a.metadata.finalizers).toContain('asya.sh/finalizer');
    expect(a.status.observedGeneration).toBe(a.metadata.generation);
    expect(await withChannel(amqpConn, (ch) => ch.checkQueue('asya-rec-rq'))).toMatchObject({ queue: 'asya-rec-rq' });
    const dep = await getJson(['deployment', '-n', NS, 'rec-rq']);
    expect(dep.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'AsyncActor', name: 'rec-rq', uid: a.metadata.uid, controller: true })]);
    expect(dep.spec.template.metadata.labels['asya.sh/actor']).toBe('rec-rq');
    const so = await waitFor('KEDA to report the ScaledObject Ready', async () => {
      const s = await getJson(['scaledobject', '-n', NS, 'rec-rq']);
      return condition(s, 'Ready')?.status === 'True' ? s : undefined;
    }, 60_000);
    expect(so.spec.triggers[0]).toMatchObject({ type: 'rabbitmq', authenticationRef: { name: 'rec-rq-trigger-auth' } });
    expect(so.metadata.ownerReferences[0].uid).toBe(a.metadata.uid);
    const ta = await getJson(['triggerauthentication', '-n', NS, 'rec-rq-trigger-auth']);
    expect(ta.spec.secretTargetRef.map((r: { parameter: string }) => r.parameter).sort()).toEqual(['password', 'username']);
    // KEDA made its HPA, and the actor is idle at zero.
    await waitFor('the HPA keda-hpa-rec-rq', async () => (await kubectl(['get', 'hpa', '-n', NS, 'keda-hpa-rec-rq'])).code === 0);
    expect(dep.spec.replicas).toBe(0);
    // The actor says ScaledObjectReady only once KEDA has (before that: ScaledObjectApplied).
    await waitFor('ScalingReady=ScaledObjectReady on the actor', async () => condition(await getActor('rec-rq'), 'ScalingReady').reason === 'ScaledObjectReady', 30_000);
  });

  test('messages in the queue make KEDA scale the Deployment 0 -> 2 (12 at 5 per replica, capped at maxReplicas); the pods are stored injected; the ReplicaSet keeps its count', async () => {
    await withChannel(amqpConn, async (ch) => {
      for (let i = 0; i < 12; i++) ch.sendToQueue('asya-rec-rq', Buffer.from(JSON.stringify({ i })), { persistent: true });
      await (ch as amqp.Channel & { waitForConfirms?: () => Promise<void> }).waitForConfirms?.();
    });
    await waitFor('12 messages in asya-rec-rq', async () => (await withChannel(amqpConn, (ch) => ch.checkQueue('asya-rec-rq'))).messageCount === 12);
    // KEDA activates it (0 -> 1), then its HPA reads the queue through KEDA's metrics adapter: ceil(12 / 5) = 3,
    // capped at 2.
    const dep = await waitFor('KEDA to scale rec-rq to 2', async () => {
      const d = await getJson(['deployment', '-n', NS, 'rec-rq']);
      return d.spec.replicas === 2 ? d : undefined;
    }, 90_000, 1000);
    expect(dep.spec.replicas).toBe(2);
    expect((await getJson(['hpa', '-n', NS, 'keda-hpa-rec-rq'])).status.desiredReplicas).toBe(2);
    const pods = await waitFor('the pod of rec-rq', async () => {
      const p = await podsOf('rec-rq');
      return p.length >= 1 ? p : undefined;
    });
    const pod = pods[0];
    expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime', 'asya-sidecar']);
    expect(pod.spec.containers[0].command).toEqual(['python3', '/opt/asya/asya_runtime.py']);
    expect(pod.spec.containers[0].volumeMounts.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['socket-dir', 'asya-runtime']));
    const volumes = pod.spec.volumes.map((v: { name: string; configMap?: { name: string } }) => [v.name, v.configMap?.name]);
    expect(volumes).toEqual(expect.arrayContaining([['socket-dir', undefined], ['asya-runtime', 'asya-runtime']]));
    const sidecarEnv = Object.fromEntries(pod.spec.containers[1].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(sidecarEnv).toMatchObject({ ASYA_QUEUE_NAME: 'asya-rec-rq', ASYA_RABBITMQ_HOST: '127.0.0.1', ASYA_RABBITMQ_PORT: String(rabbit.port) });
    expect(pod.metadata.annotations['asya.sh/injection-status']).toBeDefined();
    await sleep(4000);
    const rs = (await getJson<{ items: any[] }>(['rs', '-n', NS, '-l', 'asya.sh/actor=rec-rq'])).items;
    expect(rs).toHaveLength(1);
    expect((await podsOf('rec-rq')).length).toBe(rs[0].spec.replicas);
    // The status shows it: QUEUED from the broker, DESIRED from KEDA's HPA, PENDING from the pods.
    const a = await waitFor('QUEUED 12 and a pending pod in the status', async () => {
      const x = await getActor('rec-rq');
      return x.status?.queuedMessages === 12 && x.status?.pendingReplicas === 2 && x.status?.desiredReplicas === 2 ? x : undefined;
    }, 60_000, 1000);
    expect(a.status).toMatchObject({ queuedMessages: 12 });
  });

  test('StatefulSet with volumeClaimTemplates: created, owned, scaled to its minimum by KEDA, its pod injected', async () => {
    const a = await allReady('rec-sts');
    const sts = await getJson(['statefulset', '-n', NS, 'rec-sts']);
    expect(sts.metadata.ownerReferences[0].uid).toBe(a.metadata.uid);
    expect(sts.spec.volumeClaimTemplates.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(['cache']);
    const so = await waitFor('the StatefulSet ScaledObject Ready', async () => {
      const s = await getJson(['scaledobject', '-n', NS, 'rec-sts']);
      return condition(s, 'Ready')?.status === 'True' ? s : undefined;
    }, 60_000);
    expect(so.spec.scaleTargetRef).toMatchObject({ kind: 'StatefulSet', name: 'rec-sts' });
    const pod = await waitFor<any>('pod rec-sts-0', () => getIfExists(['pod', '-n', NS, 'rec-sts-0']), 60_000, 1000);
    expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime', 'asya-sidecar']);
    expect(pod.spec.volumes.find((v: { name: string }) => v.name === 'cache').persistentVolumeClaim.claimName).toBe('cache-rec-sts-0');
    expect((await kubectl(['get', 'pvc', '-n', NS, 'cache-rec-sts-0'])).code).toBe(0);
  });

  test('SQS (moto): the queue with its tags in the emulator, the aws-sqs-queue ScaledObject Ready, the TriggerAuthentication from the Secret', async () => {
    await allReady('rec-sqs');
    const sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'asya-rec-sqs' }));
      expect(QueueUrl).toContain('asya-rec-sqs');
      const tags = (await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags;
      expect(tags).toMatchObject({ 'asya.sh/actor': 'rec-sqs', 'asya.sh/namespace': NS });
      const so = await waitFor('KEDA to report the SQS ScaledObject Ready', async () => {
        const s = await getJson(['scaledobject', '-n', NS, 'rec-sqs']);
        return condition(s, 'Ready')?.status === 'True' ? s : undefined;
      }, 60_000);
      expect(so.spec.triggers[0]).toMatchObject({ type: 'aws-sqs-queue', metadata: { queueURL: QueueUrl, awsEndpoint: moto.endpoint, awsRegion: 'us-east-1' } });
      const ta = await getJson(['triggerauthentication', '-n', NS, 'rec-sqs-trigger-auth']);
      expect(ta.spec.secretTargetRef).toEqual(expect.arrayContaining([expect.objectContaining({ parameter: 'awsAccessKeyID', name: 'aws-credentials' })]));
    } finally {
      sqs.destroy();
    }
  });

  test('kubectl get asyas (and -o wide) shows the conditions and counts', async () => {
    await allReady('rec-fixed');
    await waitFor('rec-fixed Running 0/1 pending 1', async () => (await getActor('rec-fixed')).status?.pendingReplicas === 1, 30_000);
    // Columns by their offsets in the header (an empty cell, e.g. LAST-SCALE, must not shift the others).
    const [head, ...lines] = (await kubectlOk(['get', 'asyas', '-n', NS, '-o', 'wide'])).trimEnd().split('\n');
    const cols = [...head!.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index! }));
    const row = (name: string) => {
      const line = lines.find((l) => l.startsWith(`${name} `))!;
      return Object.fromEntries(cols.map((c, i) => [c.name, line.slice(c.at, cols[i + 1]?.at ?? line.length).trim()]));
    };
    expect(row('rec-rq')).toMatchObject({ WORKLOAD: 'Deployment', TRANSPORT: 'Ready', SCALING: 'KEDA', QUEUED: '12', PENDING: '2', MIN: '0', MAX: '2', DESIRED: '2' });
    expect(row('rec-sts')).toMatchObject({ WORKLOAD: 'StatefulSet', TRANSPORT: 'Ready', SCALING: 'KEDA', QUEUED: '0' });
    expect(row('rec-fixed')).toMatchObject({ WORKLOAD: 'Deployment', TRANSPORT: 'Ready', SCALING: 'Manual', PENDING: '1', RUNNING: '0', QUEUED: '0' });
    expect(row('rec-sqs')).toMatchObject({ WORKLOAD: 'Deployment', TRANSPORT: 'Ready', SCALING: 'KEDA', QUEUED: '0' });
    // Pods stay Pending (scheduled, but python:3.13-slim is not on the e2e node and is never pulled): the display
    // status says so rather than Running.
    expect(row('rec-fixed').STATUS).not.toBe('');
  });
});

describe('the runtime script missing (the chart default runtime.source=local, nothing at the path)', () => {
  test('the reconciler started and stays ready, logged it, and tells each actor; nothing else is held back', async () => {
    expect(reconciler.running).toBe(true);
    expect((await reconciler.get('/readyz')).status).toBe(200);
    expect(reconciler.log()).toContain('runtime script not readable');
    const a = await getActor('rec-fixed');
    expect(condition(a, 'WorkloadReady').message).toContain('runtime script /etc/asya-runtime/asya_runtime.py is missing');
    const events = await reconcilerEvents();
    expect(events.filter((e) => e.reason === 'RuntimeScriptMissing').map((e) => e.involvedObject.name)).toEqual(expect.arrayContaining(['rec-rq', 'rec-fixed', 'rec-sqs']));
    expect((await kubectl(['get', 'configmap', '-n', NS, 'asya-runtime'])).code).not.toBe(0);
  });
});

/** The reconciler's writes in NS so far (FlowSchema counts), and every client's writes by resource (to explain a failure). */
async function writesSoFar(): Promise<{ ours: number; events: number; byResource: Map<string, number> }> {
  const text = await apiserverMetrics(cluster.server, cluster.token, readFileSync(cluster.caFile));
  const flows = dispatchedByFlowSchema(text);
  return { ours: flows.get(FLOW.writes) ?? 0, events: flows.get(FLOW.events) ?? 0, byResource: writesByResource(text, ['asya.sh', 'apps', 'keda.sh', '']) };
}

describe('idle cost', () => {
  test(`two resync periods (${RESYNC_S}s each) after everything is ready write nothing to the API server`, async () => {
    for (const n of Object.values(ACTORS)) await allReady(n.metadata.name);
    // Let the last writes land: a quiet 5 s.
    for (let i = 0, prev = await writesSoFar(); i < 12; i++) {
      await sleep(5000);
      const now = await writesSoFar();
      if (now.ours === prev.ours) break;
      prev = now;
    }
    const eventsBefore = (await reconcilerEvents()).length;
    const before = await writesSoFar();
    // The counters are real: the reconciler's creates, status writes and Events so far are in them.
    expect(before.ours).toBeGreaterThanOrEqual(3 * Object.keys(ACTORS).length);
    expect(before.events).toBeGreaterThan(0);
    const resyncsBefore = (reconciler.log().match(/periodic resync/g) ?? []).length;
    await sleep(2 * RESYNC_S * 1000 + 10_000);
    const after = await writesSoFar();
    expect((reconciler.log().match(/periodic resync/g) ?? []).length - resyncsBefore).toBeGreaterThanOrEqual(2);
    const moved = { writes: after.ours - before.ours, events: after.events - before.events };
    // On a failure, every client's writes by resource meanwhile say what moved.
    if (moved.writes || moved.events) console.log('writes by resource meanwhile (every client):', deltas(before.byResource, after.byResource));
    expect(moved).toEqual({ writes: 0, events: 0 });
    expect((await reconcilerEvents()).length).toBe(eventsBefore);
  }, 2 * RESYNC_S * 1000 + 60_000);
});

describe('pods admitted without the sidecar', () => {
  test('are left alone while the pod webhook is not registered, then recycled (deleted, re-created injected) once it is', async () => {
    const mutating = webhookConfigs.find((o) => o.kind === 'MutatingWebhookConfiguration')!;
    const [injected] = await podsOf('rec-fixed');
    expect(injected.spec.containers.map((c: { name: string }) => c.name)).toContain('asya-sidecar');
    await kubectlOk(['delete', 'mutatingwebhookconfiguration', mutating.metadata.name]);
    await kubectlOk(['delete', 'pod', '-n', NS, injected.metadata.name, '--wait=false']);
    const bare = await waitFor('a pod admitted without the webhook', async () => {
      const p = (await podsOf('rec-fixed')).filter((x) => x.metadata.name !== injected.metadata.name && !x.metadata.deletionTimestamp);
      return p.length === 1 ? p[0] : undefined;
    });
    expect(bare.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime']);
    expect(bare.metadata.annotations?.['asya.sh/injection-status']).toBeUndefined();
    // No webhook: recycling would only make another bare pod.
    await sleep(6000);
    expect((await podsOf('rec-fixed')).map((p) => p.metadata.name)).toEqual([bare.metadata.name]);

    await registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
    const replacement = await waitFor('the bare pod to be replaced by an injected one', async () => {
      const p = (await podsOf('rec-fixed')).filter((x) => !x.metadata.deletionTimestamp);
      return p.length === 1 && p[0].metadata.name !== bare.metadata.name ? p[0] : undefined;
    }, 60_000, 500);
    expect(replacement.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime', 'asya-sidecar']);
    const events = (await reconcilerEvents()).filter((e) => e.reason === 'PodRecycled');
    expect(events).toHaveLength(1);
    expect(events[0].message).toContain(bare.metadata.name);
    expect(events[0].involvedObject.name).toBe('rec-fixed');
    await sleep(3000);
    expect(await podsOf('rec-fixed')).toHaveLength(1);
  }, 120_000);
});

describe('RBAC: the reconciler works with exactly the chart roles', () => {
  test('outside them the API server refuses it', async () => {
    const as = ['--as', `system:serviceaccount:${SYSTEM_NS}:${reconcilerSA}`];
    const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, ...as])).stdout.trim();
    expect(await can('update', 'asyncactors.asya.sh/status', '-n', NS)).toBe('yes');
    expect(await can('create', 'scaledobjects.keda.sh', '-n', NS)).toBe('yes');
    expect(await can('get', 'secrets', '-n', NS)).toBe('no');
    expect(await can('delete', 'secrets', '-n', NS)).toBe('no');
    expect(await can('delete', 'nodes')).toBe('no');
    expect(await can('create', 'pods', '-n', NS)).toBe('no');
    expect(await can('delete', 'asyncactors.asya.sh', '-n', NS)).toBe('no');
    // And with its own token, a real call.
    const r = await kubectl(['get', 'secret', 'rabbitmq-secret', '-n', NS], { kubeconfig: reconcilerKubeconfig });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden/i);
    const del = await kubectl(['delete', 'secret', 'aws-credentials', '-n', NS], { kubeconfig: reconcilerKubeconfig });
    expect(del.stderr).toMatch(/forbidden/i);
    // Its log has no refusal of its own calls (a missing verb would show as 403 here).
    expect(reconciler.log()).not.toMatch(/forbidden/i);
  });
});

describe('deleting an actor', () => {
  test('removes the queue, the ScaledObject, and (real garbage collector) the workload, ReplicaSet and pods', async () => {
    const uid = (await getActor('rec-rq')).metadata.uid;
    await kubectlOk(['delete', 'asya', '-n', NS, 'rec-rq', '--wait=true', '--timeout=60s']);
    expect(await queueExists(amqpConn, 'asya-rec-rq')).toBe(false);
    await waitFor('every object owned by rec-rq to go', async () => {
      const left = await Promise.all(
        [['deployment', 'rec-rq'], ['scaledobject', 'rec-rq'], ['triggerauthentication', 'rec-rq-trigger-auth'], ['hpa', 'keda-hpa-rec-rq']].map(async ([k, n]) => (await kubectl(['get', k!, '-n', NS, n!])).code === 0),
      );
      const rs = (await getJson<{ items: any[] }>(['rs', '-n', NS, '-l', 'asya.sh/actor=rec-rq'])).items;
      return !left.some(Boolean) && rs.length === 0 && (await podsOf('rec-rq')).length === 0;
    }, 60_000, 500);
    const events = await reconcilerEvents();
    expect(events.some((e) => e.reason === 'QueueDeleted' && e.involvedObject.uid === uid)).toBe(true);
  });

  test('SQS: the queue is deleted in the emulator', async () => {
    await kubectlOk(['delete', 'asya', '-n', NS, 'rec-sqs', '--wait=true', '--timeout=60s']);
    const sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'asya-rec-sqs' }))).rejects.toThrow();
    } finally {
      sqs.destroy();
    }
  });

  test('with reconciler.deleteQueues=false (restarted with that configuration and a runtime script): the queue stays, the ConfigMap appears', async () => {
    await reconciler.stop();
    const script = join(reconciler.dir, 'asya_runtime.py');
    writeFileSync(script, 'print("asya runtime")\n');
    await reconciler.start(hostConfig({ deleteQueues: false }, { scriptPath: script }));
    const cm = await waitFor<any>('ConfigMap asya-runtime', () => getIfExists(['configmap', '-n', NS, 'asya-runtime']), 60_000, 500);
    expect(cm.data['asya_runtime.py']).toBe(readFileSync(script, 'utf8'));
    await waitFor('the runtime note to leave rec-fixed', async () => !condition(await getActor('rec-fixed'), 'WorkloadReady').message.includes('missing'), 30_000);
    expect(await queueExists(amqpConn, 'asya-rec-fixed')).toBe(true);
    await kubectlOk(['delete', 'asya', '-n', NS, 'rec-fixed', '--wait=true', '--timeout=60s']);
    await waitFor('the Deployment to be collected', async () => (await kubectl(['get', 'deployment', '-n', NS, 'rec-fixed'])).code !== 0, 30_000);
    expect(await queueExists(amqpConn, 'asya-rec-fixed')).toBe(true);
    await withChannel(amqpConn, (ch) => ch.deleteQueue('asya-rec-fixed'));
  }, 120_000);
});
