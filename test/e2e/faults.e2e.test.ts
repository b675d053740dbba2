// Faults and hostile input against the real control plane, with the reconciler run as the chart runs it (its
// arguments, configuration, RBAC and admission policy, its own ServiceAccount token): what others change behind
// its back is put back, what can never run is refused or reported, one queue keeps one owner, an API server
// outage costs nothing, and its token cannot touch what it does not manage. The recovery times printed here go
// into the README's table.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import amqp from 'amqplib';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCrd } from '../../src/api/crd.js';
import { RabbitNode, queueDepth, withChannel } from '../support/rabbitmq.js';
import { applyObjects, cluster, deleteNamespaces, getJson, kubectl, kubectlOk, sleep, waitFor } from './support/cluster.js';
import { startOperatorOnHost, type HostOperator } from './support/operator.js';

const RELEASE = 'asyafault';
const SYSTEM_NS = 'asyafault-system';
const NS = 'e2e-faults';
const NS_B = 'e2e-faults-b';

let rabbit: RabbitNode;
let op: HostOperator;
let amqpConn: amqp.ChannelModel;
const recovery: Record<string, number> = {};

const actor = (name: string, spec: Record<string, unknown> = {}, namespace = NS) => ({
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name, namespace },
  spec: {
    transport: 'rabbitmq',
    workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'registry.invalid/handler:1' }] } } },
    ...spec,
  },
});
const condition = (a: any, type: string) => (a.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
const getActor = (name: string, ns = NS) => getJson(['asyncactors', '-n', ns, name]);
const ready = (name: string, ns = NS) =>
  waitFor(`actor ${ns}/${name} ready`, async () => {
    const a = await getActor(name, ns);
    return ['TransportReady', 'WorkloadReady', 'ScalingReady'].every((t) => condition(a, t)?.status === 'True') ? a : undefined;
  }, 90_000, 250);
const reconcilerEvents = async (reason: string, ns = NS) =>
  (await getJson<{ items: any[] }>(['events', '-n', ns])).items.filter((e) => e.reportingComponent === 'asya-reconciler' && e.reason === reason);


/** Measures how long `restored` takes to hold after `breakIt`, records it under `name`. */
async function timeRecovery(name: string, breakIt: () => Promise<unknown>, restored: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  await breakIt();
  const t0 = Date.now();
  await waitFor(`${name} to be repaired`, async () => (await restored()) || undefined, timeoutMs, 100);
  recovery[name] = (Date.now() - t0) / 1000;
  return recovery[name];
}

/** The PID of this run's kube-apiserver (controlPlane.ts records the PIDs it starts). */
function apiserverPid(): number {
  for (const line of readFileSync(join(cluster.dir, 'pids'), 'utf8').split('\n')) {
    const pid = Number(line.split(' ')[0]);
    if (!pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('/kube-apiserver')) return pid;
    } catch {
      // gone
    }
  }
  throw new Error('kube-apiserver PID not found');
}

beforeAll(async () => {
  rabbit = await RabbitNode.start();
  amqpConn = await amqp.connect(rabbit.url);
  amqpConn.on('error', () => undefined);
  await applyObjects([buildCrd()]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
  for (const ns of [NS, NS_B]) {
    await kubectl(['create', 'namespace', ns]);
    await applyObjects([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: ns }, stringData: { username: 'guest', password: 'guest' } }]);
  }
  op = await startOperatorOnHost({
    release: RELEASE,
    namespace: SYSTEM_NS,
    values: {
      'transports.rabbitmq.config.host': '127.0.0.1',
      'transports.rabbitmq.config.port': rabbit.port,
      'reconciler.queueCheckSeconds': 2,
    },
  });
  await applyObjects([actor('fa', { scaling: { enabled: true, minReplicas: 0, maxReplicas: 3, pollingInterval: 5 } })]);
  await ready('fa');
}, 240_000);

afterAll(async () => {
  for (const ns of [NS, NS_B]) await kubectl(['delete', 'asyncactors', '--all', '-n', ns, '--wait=true', '--timeout=60s']);
  await op?.stop();
  await deleteNamespaces([NS, NS_B, SYSTEM_NS]);
  await amqpConn?.close().catch(() => undefined);
  await rabbit?.destroy();
  process.stderr.write(`recovery times (s): ${JSON.stringify(recovery)}\n`);
}, 120_000);

describe('drift is repaired, and only drift', () => {
  const deployment = () => getJson(['deployment', '-n', NS, 'fa']);

  test('kubectl set image on the Deployment is undone, with a Warning Event naming the field', async () => {
    await timeRecovery(
      'set image',
      () => kubectlOk(['set', 'image', '-n', NS, 'deployment/fa', 'asya-runtime=evil/image:1']),
      async () => (await deployment()).spec.template.spec.containers[0].image === 'registry.invalid/handler:1',
    );
    const events = await reconcilerEvents('DriftRepaired');
    expect(events.map((e) => e.message)).toContain('Deployment fa was changed outside the reconciler (/spec/template/spec/containers/0/image); restored');
  });

  test('kubectl set env is undone', async () => {
    await timeRecovery(
      'set env',
      () => kubectlOk(['set', 'env', '-n', NS, 'deployment/fa', 'DEBUG=1']),
      async () => (await deployment()).spec.template.spec.containers[0].env === undefined,
    );
  });

  test("removing the asya.sh/actor label (the Deployment leaves the reconciler's watch) is undone", async () => {
    await timeRecovery(
      'label removed',
      () => kubectlOk(['label', '-n', NS, 'deployment/fa', 'asya.sh/actor-']),
      async () => (await deployment()).metadata.labels?.['asya.sh/actor'] === 'fa',
    );
  });

  test("a hand edit of the ScaledObject's maxReplicaCount is undone; a deleted ScaledObject comes back", async () => {
    await timeRecovery(
      'ScaledObject edited',
      () => kubectlOk(['patch', 'scaledobject', '-n', NS, 'fa', '--type=merge', '-p', '{"spec":{"maxReplicaCount":100}}']),
      async () => (await getJson(['scaledobject', '-n', NS, 'fa'])).spec.maxReplicaCount === 3,
    );
    await timeRecovery(
      'ScaledObject deleted',
      () => kubectlOk(['delete', 'scaledobject', '-n', NS, 'fa', '--wait=true']),
      async () => (await kubectl(['get', 'scaledobject', '-n', NS, 'fa'])).code === 0,
    );
  });

  test('a deleted queue is declared again within the queue check period (2 s here), with an Event', async () => {
    const t = await timeRecovery(
      'queue deleted',
      () => withChannel(amqpConn, (ch) => ch.deleteQueue('asya-fa')),
      async () => (await queueDepth(amqpConn, 'asya-fa')) !== undefined,
    );
    expect(t).toBeLessThan(15);
    expect((await reconcilerEvents('QueueRecreated')).map((e) => e.message)).toContain(
      'queue asya-fa was gone from rabbitmq (deleted outside the reconciler, or the broker lost it); declared again: messages sent meanwhile were dropped',
    );
  });

  test('an idle actor is not written to: drift repair compares, it does not rewrite', async () => {
    const before = (await deployment()).metadata.resourceVersion;
    const actorRv = (await getActor('fa')).metadata.resourceVersion;
    await sleep(8_000); // 4 queue checks
    expect((await deployment()).metadata.resourceVersion).toBe(before);
    expect((await getActor('fa')).metadata.resourceVersion).toBe(actorRv);
  });
});

describe('admitted before, broken now: reported once, no retry loop', () => {
  test('an actor stored with env as an object (before admission checked the pod spec) gets InvalidSpec with the field, and nothing more', async () => {
    // As an actor stored by an older webhook: without the validating webhook for a moment.
    await kubectlOk(['delete', 'validatingwebhookconfiguration', '-l', `app.kubernetes.io/instance=${RELEASE}`]);
    try {
      await applyObjects([actor('bad-env', { workload: { replicas: 1, template: { spec: { containers: [{ name: 'asya-runtime', image: 'x:1', env: { DEBUG: '1' } }] } } } })]);
    } finally {
      await op.registerWebhooks();
    }
    const a = await waitFor('InvalidSpec', async () => {
      const x = await getActor('bad-env');
      return condition(x, 'WorkloadReady')?.reason === 'InvalidSpec' ? x : undefined;
    }, 30_000, 250);
    expect(condition(a, 'WorkloadReady').message).toContain('spec.workload.template.spec.containers[0].env: must be of type array');
    expect(a.status.status).toBe('ConfigError');
    expect((await kubectl(['get', 'deployment', '-n', NS, 'bad-env'])).code).not.toBe(0);
    const rv = a.metadata.resourceVersion;
    await sleep(5_000);
    expect((await getActor('bad-env')).metadata.resourceVersion).toBe(rv);
  });

  test("pods the API server refuses (a quota): the Deployment's ReplicaFailure is in STATUS and WorkloadReady", async () => {
    await applyObjects([{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods', namespace: NS_B }, spec: { hard: { pods: '0' } } }]);
    await applyObjects([actor('quota', { workload: { replicas: 1, template: { spec: { containers: [{ name: 'asya-runtime', image: 'x:1' }] } } } }, NS_B)]);
    const a = await waitFor('WorkloadError', async () => {
      const x = await getActor('quota', NS_B);
      return x.status?.status === 'WorkloadError' ? x : undefined;
    }, 60_000, 500);
    expect(condition(a, 'WorkloadReady')).toMatchObject({ status: 'False', reason: 'FailedCreate' });
    expect(condition(a, 'WorkloadReady').message).toMatch(/^Deployment quota cannot create pods: .*exceeded quota: no-pods/);
    await kubectl(['delete', 'asyncactors', '-n', NS_B, 'quota', '--wait=true']);
    await kubectl(['delete', 'resourcequota', '-n', NS_B, 'no-pods']);
  }, 90_000);
});

describe('two actors, one queue', () => {
  test('the later actor is marked and leaves the queue alone; deleting it keeps the queue and its messages', async () => {
    // Created at the same instant, as far as the webhook's cache is concerned: without the validating webhook.
    await kubectlOk(['delete', 'validatingwebhookconfiguration', '-l', `app.kubernetes.io/instance=${RELEASE}`]);
    try {
      await applyObjects([actor('twin', {}, NS)]);
      await applyObjects([actor('twin', {}, NS_B)]);
    } finally {
      await op.registerWebhooks();
    }
    await ready('twin', NS);
    const later = await waitFor('the later actor to be marked', async () => {
      const x = await getActor('twin', NS_B);
      return condition(x, 'TransportReady')?.reason === 'QueueOwnedByAnotherActor' ? x : undefined;
    }, 30_000, 250);
    expect(condition(later, 'TransportReady').message).toContain(`belongs to actor ${NS}/twin`);
    expect(later.status.status).toBe('TransportError');
    expect(await reconcilerEvents('QueueOwnedByAnotherActor', NS_B)).toHaveLength(1);
    expect((await kubectl(['get', 'deployment', '-n', NS_B, 'twin'])).code).not.toBe(0);

    await withChannel(amqpConn, async (ch) => {
      ch.sendToQueue('asya-twin', Buffer.from('{"id":"keep-me"}'), { persistent: true });
    });
    await waitFor('the message in the queue', async () => (await queueDepth(amqpConn, 'asya-twin')) === 1, 10_000, 100);
    await kubectlOk(['delete', 'asyncactors', '-n', NS_B, 'twin', '--wait=true', '--timeout=30s']);
    expect(await queueDepth(amqpConn, 'asya-twin')).toBe(1);
    expect((await getActor('twin', NS)).status.status).not.toBe('TransportError');
  }, 90_000);
});

describe('the API server goes away for 20 s', () => {
  test('the reconciler keeps running, pauses while it cannot hold the lease, and reconciles again afterwards', async () => {
    const pid = apiserverPid();
    const logBefore = op.reconciler.log().length;
    spawnSync('kill', ['-STOP', String(pid)]);
    try {
      await sleep(20_000);
    } finally {
      spawnSync('kill', ['-CONT', String(pid)]);
    }
    const t0 = Date.now();
    await waitFor('the API server back', async () => (await kubectl(['get', '--raw', '/readyz'])).code === 0, 60_000, 250);
    expect(op.reconciler.running).toBe(true);
    await applyObjects([actor('after-outage')]);
    await ready('after-outage');
    recovery['API server down 20 s (until a new actor is ready)'] = (Date.now() - t0) / 1000;
    const log = op.reconciler.log().slice(logBefore);
    expect(log).toContain('not leading: reconciling paused until the lease is held again');
    expect(log).toContain('became leader');
    expect(op.reconciler.running).toBe(true);
  }, 180_000);
});

describe("the reconciler's token writes only what the reconciler manages", () => {
  test('RBAC and the admission policy: a ConfigMap named asya-runtime in kube-system cannot be replaced; Secrets cannot be read', async () => {
    await applyObjects([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'asya-runtime', namespace: 'kube-system' }, data: { 'asya_runtime.py': 'original' } }]);
    try {
      const as = { kubeconfig: op.reconcilerKubeconfig };
      const replaced = await kubectl(['replace', '-f', '-'], {
        ...as,
        input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'asya-runtime', namespace: 'kube-system' }, data: { 'asya_runtime.py': 'import os; os.system("evil")' } }),
      });
      expect(replaced.code).not.toBe(0);
      expect(replaced.stderr).toContain('the asya reconciler may only update configmaps it manages');
      // RBAC alone would have let it: the name is asya-runtime.
      expect((await kubectl(['auth', 'can-i', 'update', 'configmaps/asya-runtime', '-n', 'kube-system'], as)).stdout.trim()).toBe('yes');
      const created = await kubectl(['create', 'configmap', 'other', '-n', 'kube-system', '--from-literal=a=b'], as);
      expect(created.stderr).toContain('the asya reconciler may only create configmaps it manages');
      expect((await kubectl(['get', 'configmap', 'other', '-n', 'kube-system'])).code).not.toBe(0);
      expect((await kubectl(['get', 'secrets', '-n', NS], as)).stderr).toContain('forbidden');
      expect((await getJson(['configmap', '-n', 'kube-system', 'asya-runtime'])).data['asya_runtime.py']).toBe('original');
    } finally {
      await kubectl(['delete', 'configmap', '-n', 'kube-system', 'asya-runtime']);
    }
  });
});
