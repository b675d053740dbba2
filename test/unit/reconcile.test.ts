// The reconcile loop against the in-memory API server: what it creates, what it refuses to rewrite, how it
// handles immutable fields, missing KEDA, conflicts and deletion.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { AsyncActor } from '../../src/api/schema.js';
import { KINDS, KubeApiError, type KubeObject } from '../../src/kube/client.js';
import { MemoryKubeClient } from '../support/memoryKube.js';
import { KubeEventRecorder } from '../../src/reconciler/events.js';
import { Reconciler } from '../../src/reconciler/reconcile.js';
import { TransportError } from '../../src/transports/types.js';
import { FINALIZER, SKIP_QUEUE_DELETION_ANNOTATION } from '../../src/names.js';
import { kedaScale, settleWorkload } from '../support/cluster.js';
import { createActor, logger, makeActor, makeConfig } from '../support/fixtures.js';
import { MemoryTransport } from '../support/memoryTransport.js';
import { memoryInformer } from '../support/memoryInformer.js';
import { CachedClient } from '../../src/reconciler/cache.js';

type Actor = AsyncActor & KubeObject;

let client: MemoryKubeClient;
let rabbit: MemoryTransport;
let sqs: MemoryTransport;
let now: Date;

function reconciler(configOver: Parameters<typeof makeConfig>[0] = {}) {
  return new Reconciler({
    client,
    config: makeConfig(configOver),
    transports: new Map([
      ['rabbitmq', rabbit],
      ['sqs', sqs],
    ]),
    runtimeScript: 'print("runtime")\n',
    logger,
    events: new KubeEventRecorder(client, logger, () => now),
    clock: () => now,
  });
}

const actorNow = (name = 'echo') => client.peek<Actor>(KINDS.actor, 'default', name)!;
const cond = (a: Actor, type: string) => a.status?.conditions?.find((c) => c.type === type);
const events = () => client.all<KubeObject & { reason: string; type: string; message: string }>(KINDS.event);

beforeEach(() => {
  client = new MemoryKubeClient();
  rabbit = new MemoryTransport('rabbitmq', 'rabbitmq');
  sqs = new MemoryTransport('sqs', 'sqs');
  now = new Date('2026-01-01T00:00:00Z');
});

describe('reconcile: creation', () => {
  it('adds the finalizer first, then creates queue, ConfigMap, Deployment and ScaledObject, and reports status', async () => {
    await createActor(client, makeActor('echo', { scaling: { enabled: true, minReplicas: 0, maxReplicas: 5, queueLength: 3 } }));
    const r = reconciler();
    client.resetCalls();
    let declaredAtFinalizer = -1;
    client.faults.push((c) => {
      if (c.verb === 'update' && c.kind === 'AsyncActor') declaredAtFinalizer = rabbit.declarations;
      return undefined;
    });
    await r.reconcile('default', 'echo');
    const w = client.writes();
    expect(w[0]).toMatchObject({ verb: 'update', kind: 'AsyncActor' });
    expect(declaredAtFinalizer).toBe(0); // the finalizer is there before anything external exists
    expect(actorNow().metadata.finalizers).toEqual([FINALIZER]);
    expect(rabbit.queues.get('asya-echo')).toBeDefined();
    const dep = client.peek<KubeObject>(KINDS.deployment, 'default', 'echo')!;
    const spec = dep.spec as { replicas?: number; selector: unknown; template: { metadata: { labels: Record<string, string> } } };
    expect(spec.selector).toEqual({ matchLabels: { 'asya.sh/actor': 'echo' } });
    expect(spec.template.metadata.labels['asya.sh/actor']).toBe('echo');
    expect(dep.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'AsyncActor', name: 'echo', uid: actorNow().metadata.uid, controller: true });
    expect(client.peek<KubeObject>(KINDS.configMap, 'default', 'asya-runtime')?.data).toEqual({ 'asya_runtime.py': 'print("runtime")\n' });
    const so = client.peek<KubeObject>(KINDS.scaledObject, 'default', 'echo')!;
    expect(so.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'echo' },
      minReplicaCount: 0,
      maxReplicaCount: 5,
      triggers: [{ type: 'rabbitmq', name: 'queueLength', metadata: { queueName: 'asya-echo', mode: 'QueueLength', value: '3' }, authenticationRef: { name: 'echo-trigger-auth' } }],
    });
    expect(client.peek<KubeObject>(KINDS.triggerAuthentication, 'default', 'echo-trigger-auth')?.spec).toEqual({
      secretTargetRef: [
        { parameter: 'username', name: 'rabbitmq-secret', key: 'username' },
        { parameter: 'password', name: 'rabbitmq-secret', key: 'password' },
      ],
    });
    const a = actorNow();
    expect(cond(a, 'TransportReady')).toMatchObject({ status: 'True', reason: 'QueueReady' });
    expect(cond(a, 'WorkloadReady')?.status).toBe('True');
    expect(cond(a, 'ScalingReady')?.status).toBe('True');
    expect(a.status).toMatchObject({ observedGeneration: 1, scalingMode: 'KEDA', transportStatus: 'Ready', queuedMessages: 0, workloadRef: { kind: 'Deployment', name: 'echo' } });
    // KEDA owns the count: the Deployment is created at minReplicas (not the API default 1, which would start a
    // pod per actor until KEDA scales it down) and the reconciler never sets it again.
    expect(spec.replicas).toBe(0);
  });

  it('sets replicas only when scaling is disabled and then reports Running from the pods', async () => {
    await createActor(client, makeActor('fixed', { workload: { replicas: 2 } }));
    const r = reconciler();
    await r.reconcile('default', 'fixed');
    expect((client.peek<KubeObject>(KINDS.deployment, 'default', 'fixed')!.spec as { replicas: number }).replicas).toBe(2);
    expect(client.peek(KINDS.scaledObject, 'default', 'fixed')).toBeUndefined();
    expect(actorNow('fixed').status).toMatchObject({ status: 'Creating', scalingMode: 'Manual', desiredReplicas: 2 });
    settleWorkload(client, 'default', 'fixed');
    await r.reconcile('default', 'fixed');
    expect(actorNow('fixed').status).toMatchObject({ status: 'Running', replicas: 2, pendingReplicas: 0, failingPods: 0, totalReplicas: 2 });
  });

  it('makes zero writes and no queue declarations when nothing changed', async () => {
    await createActor(client, makeActor('idle', { scaling: { enabled: true } }));
    const r = reconciler();
    await r.reconcile('default', 'idle');
    kedaScale(client, 'default', 'idle', 0);
    settleWorkload(client, 'default', 'idle');
    await r.reconcile('default', 'idle');
    expect(actorNow('idle').status?.status).toBe('Napping');
    client.resetCalls();
    const declared = rabbit.declarations;
    const conditionsBefore = actorNow('idle').status?.conditions;
    now = new Date('2026-01-01T10:00:00Z');
    for (let i = 0; i < 3; i++) await r.reconcile('default', 'idle');
    expect(client.writes()).toEqual([]);
    expect(rabbit.declarations).toBe(declared);
    expect(actorNow('idle').status?.conditions).toEqual(conditionsBefore);
  });

  it('configures an SQS actor: ServiceAccount with IRSA, the queue URL and region in the trigger, pod identity', async () => {
    await createActor(client, makeActor('sqsy', { transport: 'sqs', scaling: { enabled: true } }));
    const r = reconciler({ sqs: { actorRoleArn: 'arn:aws:iam::1:role/actor' } });
    await r.reconcile('default', 'sqsy');
    expect(client.peek<KubeObject>(KINDS.serviceAccount, 'default', 'asya-sqsy')?.metadata.annotations).toMatchObject({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/actor' });
    const dep = client.peek<KubeObject>(KINDS.deployment, 'default', 'sqsy')!;
    expect((dep.spec as { template: { spec: { serviceAccountName: string } } }).template.spec.serviceAccountName).toBe('asya-sqsy');
    expect((client.peek<KubeObject>(KINDS.scaledObject, 'default', 'sqsy')!.spec as { triggers: unknown[] }).triggers[0]).toMatchObject({
      type: 'aws-sqs-queue',
      name: 'queueLength',
      metadata: { queueURL: 'http://sqs.local/000000000000/asya-sqsy', queueLength: '5', awsRegion: 'us-east-1' },
      authenticationRef: { name: 'sqsy-trigger-auth' },
    });
    expect(client.peek<KubeObject>(KINDS.triggerAuthentication, 'default', 'sqsy-trigger-auth')?.spec).toEqual({ podIdentity: { provider: 'aws', identityOwner: 'workload' } });
  });
});

describe('reconcile: changes', () => {
  it('updates the Deployment on a template change, keeping the replica count KEDA set', async () => {
    await createActor(client, makeActor('up', { scaling: { enabled: true } }));
    const r = reconciler();
    await r.reconcile('default', 'up');
    kedaScale(client, 'default', 'up', 4);
    const a = actorNow('up');
    (a.spec.workload.template.spec as { containers: Array<{ image: string }> }).containers[0]!.image = 'example/handler:2';
    await client.update(KINDS.actor, a);
    client.resetCalls();
    await r.reconcile('default', 'up');
    const dep = client.peek<KubeObject>(KINDS.deployment, 'default', 'up')!;
    const spec = dep.spec as { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
    expect(spec.template.spec.containers[0]!.image).toBe('example/handler:2');
    expect(spec.replicas).toBe(4);
    expect(client.writes().filter((w) => w.kind === 'Deployment').map((w) => w.verb)).toEqual(['update']);
  });

  it('restores replicas changed by hand when scaling is disabled', async () => {
    await createActor(client, makeActor('manual', { workload: { replicas: 2 } }));
    const r = reconciler();
    await r.reconcile('default', 'manual');
    const dep = client.peek<KubeObject>(KINDS.deployment, 'default', 'manual')!;
    await client.update(KINDS.deployment, { ...dep, spec: { ...(dep.spec as object), replicas: 7 } });
    await r.reconcile('default', 'manual');
    expect((client.peek<KubeObject>(KINDS.deployment, 'default', 'manual')!.spec as { replicas: number }).replicas).toBe(2);
  });

  it('switching kind deletes the Deployment and creates a StatefulSet with claim templates', async () => {
    await createActor(client, makeActor('kind'));
    const r = reconciler();
    await r.reconcile('default', 'kind');
    const a = actorNow('kind');
    a.spec.workload.kind = 'StatefulSet';
    a.spec.workload.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
    await client.update(KINDS.actor, a);
    await r.reconcile('default', 'kind');
    expect(client.peek(KINDS.deployment, 'default', 'kind')).toBeUndefined();
    const sts = client.peek<KubeObject>(KINDS.statefulSet, 'default', 'kind')!;
    expect(sts.spec).toMatchObject({ serviceName: 'kind', volumeClaimTemplates: [{ metadata: { name: 'data' } }] });
    expect(actorNow('kind').status?.workloadRef).toMatchObject({ kind: 'StatefulSet' });
    expect(events().map((e) => e.reason)).toContain('WorkloadKindChanged');
  });

  it('changes StatefulSet claim templates by orphan-delete and re-create, not by a failing update loop', async () => {
    await createActor(client, makeActor('sts', { workload: { kind: 'StatefulSet', volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }] } }));
    const r = reconciler();
    await r.reconcile('default', 'sts');
    settleWorkload(client, 'default', 'sts');
    const oldUid = client.peek<KubeObject>(KINDS.statefulSet, 'default', 'sts')!.metadata.uid;
    const a = actorNow('sts');
    a.spec.workload.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '5Gi' } } } }];
    await client.update(KINDS.actor, a);
    const first = await r.reconcile('default', 'sts');
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(client.peek(KINDS.statefulSet, 'default', 'sts')).toBeUndefined();
    // Orphaned, not deleted: the pods keep running and are adopted by the new StatefulSet.
    expect(client.all<KubeObject>(KINDS.pod)).toHaveLength(1);
    expect(client.all<KubeObject>(KINDS.pod)[0]!.metadata.ownerReferences).toEqual([]);
    await r.reconcile('default', 'sts');
    const sts = client.peek<KubeObject>(KINDS.statefulSet, 'default', 'sts')!;
    expect(sts.metadata.uid).not.toBe(oldUid);
    expect(JSON.stringify(sts.spec)).toContain('5Gi');
    expect(client.calls.filter((c) => c.verb === 'update' && c.kind === 'StatefulSet')).toHaveLength(0);
  });

  it('re-creates a Deployment whose selector is not ours (immutable) instead of updating it', async () => {
    await createActor(client, makeActor('sel'));
    const r = reconciler();
    await r.reconcile('default', 'sel');
    // An older operator wrote a different selector and no immutable hash.
    const dep = client.peek<KubeObject>(KINDS.deployment, 'default', 'sel')!;
    client.simulate(KINDS.deployment, { ...dep, metadata: { ...dep.metadata, annotations: {} }, spec: { ...(dep.spec as object), selector: { matchLabels: { app: 'sel' } } } });
    await r.reconcile('default', 'sel');
    expect(client.peek(KINDS.deployment, 'default', 'sel')).toBeUndefined();
    await r.reconcile('default', 'sel');
    expect((client.peek<KubeObject>(KINDS.deployment, 'default', 'sel')!.spec as { selector: unknown }).selector).toEqual({ matchLabels: { 'asya.sh/actor': 'sel' } });
  });

  it('disabling scaling deletes the ScaledObject and TriggerAuthentication and fixes the replicas', async () => {
    await createActor(client, makeActor('off', { scaling: { enabled: true } }));
    const r = reconciler();
    await r.reconcile('default', 'off');
    expect(client.peek(KINDS.scaledObject, 'default', 'off')).toBeDefined();
    const a = actorNow('off');
    a.spec.scaling!.enabled = false;
    await client.update(KINDS.actor, a);
    await r.reconcile('default', 'off');
    expect(client.peek(KINDS.scaledObject, 'default', 'off')).toBeUndefined();
    expect(client.peek(KINDS.triggerAuthentication, 'default', 'off-trigger-auth')).toBeUndefined();
    expect(cond(actorNow('off'), 'ScalingReady')).toMatchObject({ status: 'True', reason: 'ScalingDisabled' });
    expect(actorNow('off').status?.scalingMode).toBe('Manual');
  });

  it('moves LAST-SCALE only when the desired count changes, with its direction', async () => {
    await createActor(client, makeActor('scale', { scaling: { enabled: true, minReplicas: 1 } }));
    const r = reconciler();
    await r.reconcile('default', 'scale');
    kedaScale(client, 'default', 'scale', 1);
    await r.reconcile('default', 'scale');
    expect(actorNow('scale').status?.lastScaleTime).toBeUndefined();
    now = new Date('2026-01-01T01:00:00Z');
    kedaScale(client, 'default', 'scale', 3);
    await r.reconcile('default', 'scale');
    expect(actorNow('scale').status).toMatchObject({ desiredReplicas: 3, lastScaleTime: '2026-01-01T01:00:00.000Z', lastScaleDirection: 'up' });
    now = new Date('2026-01-01T02:00:00Z');
    await r.reconcile('default', 'scale');
    expect(actorNow('scale').status?.lastScaleTime).toBe('2026-01-01T01:00:00.000Z');
    kedaScale(client, 'default', 'scale', 0);
    await r.reconcile('default', 'scale');
    expect(actorNow('scale').status).toMatchObject({ lastScaleTime: '2026-01-01T02:00:00.000Z', lastScaleDirection: 'down' });
  });
});

describe('reconcile: faults', () => {
  it('without the KEDA CRDs: ScalingReady=False with a reason, everything else works', async () => {
    client.unserve(KINDS.scaledObject);
    client.unserve(KINDS.triggerAuthentication);
    await createActor(client, makeActor('nokeda', { scaling: { enabled: true } }));
    const result = await reconciler().reconcile('default', 'nokeda');
    const a = actorNow('nokeda');
    expect(cond(a, 'ScalingReady')).toMatchObject({ status: 'False', reason: 'KEDANotInstalled' });
    expect(cond(a, 'TransportReady')?.status).toBe('True');
    expect(cond(a, 'WorkloadReady')?.status).toBe('True');
    expect(client.peek(KINDS.deployment, 'default', 'nokeda')).toBeDefined();
    expect(a.status?.status).toBe('ScalingError');
    expect(result.requeueAfterMs).toBeGreaterThan(0);
  });

  it('a 409 on the status write is thrown for retry; the retry succeeds without duplicate objects', async () => {
    await createActor(client, makeActor('conflict'));
    const r = reconciler();
    client.failNext({ verb: 'updateStatus', kind: KINDS.actor }, () => new KubeApiError(409, 'the object has been modified', 'Conflict'));
    await expect(r.reconcile('default', 'conflict')).rejects.toMatchObject({ status: 409 });
    await r.reconcile('default', 'conflict');
    expect(client.all(KINDS.deployment)).toHaveLength(1);
    expect(cond(actorNow('conflict'), 'WorkloadReady')?.status).toBe('True');
  });

  it('a concurrent edit of the actor between read and finalizer write gives a real 409', async () => {
    await createActor(client, makeActor('race'));
    const stale = actorNow('race');
    await client.update(KINDS.actor, { ...stale, metadata: { ...stale.metadata, labels: { edited: 'yes' } } });
    await expect(client.update(KINDS.actor, stale)).rejects.toMatchObject({ status: 409 });
  });

  it('broker down: TransportReady=False with the reason, backoff, nothing else created; recovers by itself', async () => {
    await createActor(client, makeActor('down'));
    const r = reconciler();
    rabbit.down = new TransportError('BrokerUnreachable', 'connect ECONNREFUSED 127.0.0.1:5672');
    // A transient failure, already reported in the status: thrown for the work queue's backoff.
    await expect(r.reconcile('default', 'down')).rejects.toMatchObject({ name: 'TransientError', reported: true });
    const a = actorNow('down');
    expect(cond(a, 'TransportReady')).toMatchObject({ status: 'False', reason: 'BrokerUnreachable', message: expect.stringContaining('ECONNREFUSED') });
    expect(a.status).toMatchObject({ status: 'TransportError', transportStatus: 'NotReady' });
    expect(client.peek(KINDS.deployment, 'default', 'down')).toBeUndefined();
    expect(events().some((e) => e.type === 'Warning' && e.message.includes('BrokerUnreachable'))).toBe(true);
    const flippedAt = cond(a, 'TransportReady')?.lastTransitionTime;
    now = new Date('2026-01-01T00:05:00Z');
    rabbit.down = undefined;
    expect(await r.reconcile('default', 'down')).toEqual({});
    const b = actorNow('down');
    expect(cond(b, 'TransportReady')).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:05:00.000Z' });
    expect(flippedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(client.peek(KINDS.deployment, 'default', 'down')).toBeDefined();
  });

  it('SQS QueueDeletedRecently: requeued after the cooldown, not backed off and not slept', async () => {
    await createActor(client, makeActor('cool', { transport: 'sqs' }));
    sqs.down = new TransportError('QueueDeletedRecently', 'wait 60 s', 60_000);
    const started = Date.now();
    const res = await reconciler().reconcile('default', 'cool');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res).toEqual({ requeueAfterMs: 60_000 });
    expect(cond(actorNow('cool'), 'TransportReady')).toMatchObject({ status: 'False', reason: 'QueueDeletedRecently' });
  });

  it('an unknown transport is a configuration error (no queue, no workload, no retry loop)', async () => {
    await createActor(client, makeActor('lost', { transport: 'kafka' }));
    const res = await reconciler().reconcile('default', 'lost');
    expect(res).toEqual({});
    expect(actorNow('lost').status).toMatchObject({ status: 'ConfigError' });
    expect(cond(actorNow('lost'), 'TransportReady')).toMatchObject({ status: 'False', reason: 'TransportNotConfigured' });
    expect(client.all(KINDS.deployment)).toHaveLength(0);
  });

  it('does not take over a Deployment of the same name that it does not own', async () => {
    client.simulate(KINDS.deployment, { metadata: { name: 'taken', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'x' } } } });
    await createActor(client, makeActor('taken'));
    await reconciler().reconcile('default', 'taken');
    expect(cond(actorNow('taken'), 'WorkloadReady')).toMatchObject({ status: 'False', reason: 'WorkloadConflict' });
    expect(actorNow('taken').status?.status).toBe('WorkloadError');
    expect(client.peek<KubeObject>(KINDS.deployment, 'default', 'taken')!.metadata.ownerReferences).toBeUndefined();
  });
});

describe('reconcile: deletion', () => {
  it('deletes the queue, then removes the finalizer; the workload and KEDA objects are garbage-collected', async () => {
    await createActor(client, makeActor('bye', { scaling: { enabled: true } }));
    const r = reconciler();
    await r.reconcile('default', 'bye');
    await client.delete(KINDS.actor, 'default', 'bye');
    expect(actorNow('bye').metadata.deletionTimestamp).toBeDefined();
    await r.reconcile('default', 'bye');
    expect(rabbit.queues.has('asya-bye')).toBe(false);
    expect(client.peek(KINDS.actor, 'default', 'bye')).toBeUndefined();
    expect(client.all(KINDS.deployment)).toHaveLength(0);
    expect(client.all(KINDS.scaledObject)).toHaveLength(0);
    expect(client.all(KINDS.triggerAuthentication)).toHaveLength(0);
    expect(client.peek(KINDS.configMap, 'default', 'asya-runtime')).toBeDefined(); // shared by the namespace
  });

  it('keeps the queue with reconciler.deleteQueues=false', async () => {
    await createActor(client, makeActor('keep'));
    const r = reconciler({ reconciler: { deleteQueues: false } });
    await r.reconcile('default', 'keep');
    await client.delete(KINDS.actor, 'default', 'keep');
    await r.reconcile('default', 'keep');
    expect(rabbit.queues.has('asya-keep')).toBe(true);
    expect(client.peek(KINDS.actor, 'default', 'keep')).toBeUndefined();
  });

  it('a broker that stays down holds deletion (status says why) until the annotation or the timeout lets go', async () => {
    await createActor(client, makeActor('stuck'));
    const r = reconciler({ reconciler: { queueDeletionTimeoutSeconds: 600 } });
    await r.reconcile('default', 'stuck');
    await client.delete(KINDS.actor, 'default', 'stuck');
    rabbit.down = new TransportError('BrokerUnreachable', 'connect ECONNREFUSED');
    await expect(r.reconcile('default', 'stuck')).rejects.toMatchObject({ name: 'TransientError', reported: true });
    const a = actorNow('stuck');
    expect(a.status?.status).toBe('Terminating');
    expect(cond(a, 'TransportReady')?.message).toContain(SKIP_QUEUE_DELETION_ANNOTATION);
    // Way out 1: the annotation.
    await client.update(KINDS.actor, { ...a, metadata: { ...a.metadata, annotations: { [SKIP_QUEUE_DELETION_ANNOTATION]: 'true' } } });
    await r.reconcile('default', 'stuck');
    expect(client.peek(KINDS.actor, 'default', 'stuck')).toBeUndefined();

    // Way out 2: the timeout.
    rabbit.down = undefined;
    await createActor(client, makeActor('stuck2'));
    await r.reconcile('default', 'stuck2');
    await client.delete(KINDS.actor, 'default', 'stuck2');
    rabbit.down = new TransportError('BrokerUnreachable', 'connect ECONNREFUSED');
    now = new Date(Date.now() + 601_000);
    await r.reconcile('default', 'stuck2');
    expect(client.peek(KINDS.actor, 'default', 'stuck2')).toBeUndefined();
    expect(events().some((e) => e.reason === 'QueueDeletionAbandoned')).toBe(true);
  });
});

describe('end queues', () => {
  it('declares asya-happy-end and asya-error-end on every transport, and tries every transport when one is down', async () => {
    const r = reconciler();
    await r.ensureEndQueues();
    for (const t of [rabbit, sqs]) expect([...t.queues.keys()].sort()).toEqual(['asya-error-end', 'asya-happy-end']);
    // A broker down does not keep the others from getting theirs; the first error is reported.
    rabbit.down = new TransportError('BrokerUnreachable', 'connect ECONNREFUSED');
    sqs.queues.clear();
    await expect(r.ensureEndQueues()).rejects.toMatchObject({ reason: 'BrokerUnreachable' });
    expect([...sqs.queues.keys()].sort()).toEqual(['asya-error-end', 'asya-happy-end']);
  });

  it('after the first declaration, a passive check; a queue lost by the broker is declared again', async () => {
    const r = reconciler();
    await r.ensureEndQueues();
    const declared = rabbit.declarations;
    await r.ensureEndQueues();
    expect(rabbit.declarations).toBe(declared);
    rabbit.queues.delete('asya-error-end');
    await r.ensureEndQueues();
    expect(rabbit.declarations).toBe(declared + 1);
    expect(rabbit.queues.has('asya-error-end')).toBe(true);
  });

  it('deleting the end actors leaves their queues: every sidecar routes to them', async () => {
    const r = reconciler();
    for (const name of ['happy-end', 'error-end', 'ordinary']) {
      await createActor(client, makeActor(name));
      await r.reconcile('default', name);
      await client.delete(KINDS.actor, 'default', name);
      await r.reconcile('default', name);
      expect(client.peek(KINDS.actor, 'default', name)).toBeUndefined();
    }
    expect([...rabbit.queues.keys()].sort()).toEqual(['asya-error-end', 'asya-happy-end']);
  });
});

describe('drift: the live objects are brought back to what the actor says', () => {
  const dep = (name = 'echo') => client.peek<KubeObject & { spec: any }>(KINDS.deployment, 'default', name)!;
  async function settled(spec: Record<string, unknown> = {}) {
    await createActor(client, makeActor('echo', spec));
    const r = reconciler();
    await r.reconcile('default', 'echo');
    settleWorkload(client, 'default', 'echo');
    await r.reconcile('default', 'echo');
    client.resetCalls();
    return r;
  }

  it('`kubectl set image` on the Deployment is restored, with a Warning naming the field; then nothing is written', async () => {
    const r = await settled();
    const d = dep();
    d.spec.template.spec.containers[0].image = 'attacker/image:1';
    client.simulate(KINDS.deployment, d);
    await r.reconcile('default', 'echo');
    expect(dep().spec.template.spec.containers[0].image).toBe('example/handler:1');
    expect(events().find((e) => e.reason === 'DriftRepaired')?.message).toBe(
      'Deployment echo was changed outside the reconciler (/spec/template/spec/containers/0/image); restored',
    );
    client.resetCalls();
    await r.reconcile('default', 'echo');
    expect(client.writes()).toEqual([]);
  });

  it('`kubectl set env` (an extra variable) is drift; the API server\'s defaults and canonical quantities are not', async () => {
    const r = await settled({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'example/handler:1', resources: { limits: { memory: '1024Mi' } } }] } } } });
    const d = dep();
    // What the API server stores: defaults added, the quantity in its canonical form.
    Object.assign(d.spec.template.spec.containers[0], { terminationMessagePath: '/dev/termination-log', imagePullPolicy: 'IfNotPresent', resources: { limits: { memory: '1Gi' } } });
    d.spec.template.spec.dnsPolicy = 'ClusterFirst';
    client.simulate(KINDS.deployment, d);
    await r.reconcile('default', 'echo');
    expect(client.writes()).toEqual([]);
    const e = dep();
    e.spec.template.spec.containers[0].env = [{ name: 'DEBUG', value: '1' }];
    client.simulate(KINDS.deployment, e);
    await r.reconcile('default', 'echo');
    expect(dep().spec.template.spec.containers[0].env).toBeUndefined();
    expect(client.writes().slice(0, 2)).toMatchObject([{ verb: 'update', kind: 'Deployment' }, { verb: 'create', kind: 'Event', name: expect.stringMatching(/^echo\./) }]);
  });

  it('replicas changed by KEDA are not drift; a hand edit of the ScaledObject is', async () => {
    const r = await settled({ scaling: { enabled: true, maxReplicas: 5 } });
    kedaScale(client, 'default', 'echo', 3);
    await r.reconcile('default', 'echo');
    expect(dep().spec.replicas).toBe(3);
    const so = client.peek<KubeObject & { spec: any }>(KINDS.scaledObject, 'default', 'echo')!;
    so.spec.maxReplicaCount = 500;
    client.simulate(KINDS.scaledObject, so);
    await r.reconcile('default', 'echo');
    expect(client.peek<KubeObject & { spec: any }>(KINDS.scaledObject, 'default', 'echo')!.spec.maxReplicaCount).toBe(5);
  });
});

describe('one queue, one owner', () => {
  it('a second actor of the same name in another namespace gets a condition and an Event, and no queue operation; neither deletion removes the queue under the other', async () => {
    const a = await createActor(client, makeActor('twin', {}, 'team-a'));
    now = new Date('2026-01-01T00:00:01Z');
    const b = await createActor(client, { ...makeActor('twin', {}, 'team-b'), metadata: { ...makeActor('twin', {}, 'team-b').metadata, creationTimestamp: '2099-01-01T00:00:00Z' } });
    const all = () => client.all<Actor>(KINDS.actor);
    const r = new Reconciler({ client, config: makeConfig(), transports: new Map([['rabbitmq', rabbit]]), runtimeScript: 'x', logger, events: new KubeEventRecorder(client, logger, () => now), clock: () => now, actors: all });
    await r.reconcile('team-a', 'twin');
    expect(rabbit.queues.get('asya-twin')?.declared).toBe(1);
    rabbit.queues.get('asya-twin')!.depth = 7; // team-a's messages
    expect(await r.reconcile('team-b', 'twin')).toEqual({ requeueAfterMs: 60_000 });
    expect(rabbit.queues.get('asya-twin')?.declared).toBe(1);
    const later = client.peek<Actor>(KINDS.actor, 'team-b', 'twin')!;
    expect(cond(later, 'TransportReady')).toMatchObject({ status: 'False', reason: 'QueueOwnedByAnotherActor' });
    expect(cond(later, 'TransportReady')?.message).toContain('belongs to actor team-a/twin');
    expect(later.status?.status).toBe('TransportError');
    expect(client.peek(KINDS.deployment, 'team-b', 'twin')).toBeUndefined();
    expect(events().filter((e) => e.reason === 'QueueOwnedByAnotherActor')).toHaveLength(1);

    // Deleting the later one keeps the queue (and team-a's messages).
    await client.delete(KINDS.actor, 'team-b', 'twin');
    await r.reconcile('team-b', 'twin');
    expect(client.peek(KINDS.actor, 'team-b', 'twin')).toBeUndefined();
    expect(rabbit.queues.get('asya-twin')?.depth).toBe(7);
    expect(a.metadata.name).toBe(b.metadata.name);
  });
});

describe('a workload that cannot create its pods', () => {
  it("shows the Deployment's ReplicaFailure in WorkloadReady and STATUS WorkloadError", async () => {
    await createActor(client, makeActor('echo', { workload: { replicas: 1 } }));
    const r = reconciler();
    await r.reconcile('default', 'echo');
    const d = client.peek<KubeObject>(KINDS.deployment, 'default', 'echo')!;
    client.simulate(KINDS.deployment, {
      ...d,
      status: { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "echo-1" is forbidden: exceeded quota: pods' }] },
    });
    await r.reconcile('default', 'echo');
    const a = actorNow();
    expect(cond(a, 'WorkloadReady')).toMatchObject({ status: 'False', reason: 'FailedCreate', message: 'Deployment echo cannot create pods: pods "echo-1" is forbidden: exceeded quota: pods' });
    expect(a.status?.status).toBe('WorkloadError');
  });
});

describe('reads from caches (CachedClient)', () => {
  it('a Deployment that left the label-selected cache is taken back from the API (AlreadyExists) and relabelled', async () => {
    const cached = new CachedClient(client);
    for (const kind of [KINDS.actor, KINDS.deployment, KINDS.pod, KINDS.scaledObject, KINDS.triggerAuthentication, KINDS.hpa]) {
      cached.register(kind, memoryInformer(client, kind, kind === KINDS.actor ? undefined : { 'asya.sh/actor': 'echo' }));
    }
    await createActor(client, makeActor('echo'));
    const r = new Reconciler({ client: cached, fresh: client, config: makeConfig(), transports: new Map([['rabbitmq', rabbit]]), runtimeScript: 'x', logger, clock: () => now });
    await r.reconcile('default', 'echo');
    const d = client.peek<KubeObject>(KINDS.deployment, 'default', 'echo')!;
    const { 'asya.sh/actor': _gone, ...labels } = d.metadata.labels ?? {};
    client.simulate(KINDS.deployment, { ...d, metadata: { ...d.metadata, labels } });
    expect(await cached.get(KINDS.deployment, 'default', 'echo')).toBeUndefined();
    await r.reconcile('default', 'echo');
    expect(client.peek<KubeObject>(KINDS.deployment, 'default', 'echo')!.metadata.labels?.['asya.sh/actor']).toBe('echo');
    expect(await cached.get(KINDS.deployment, 'default', 'echo')).toBeDefined();
  });

  it('an unchanged actor is reconciled without a single API read', async () => {
    const cached = new CachedClient(client);
    for (const kind of [KINDS.actor, KINDS.deployment, KINDS.statefulSet, KINDS.pod, KINDS.scaledObject, KINDS.triggerAuthentication, KINDS.hpa, KINDS.configMap]) {
      cached.register(kind, memoryInformer(client, kind));
    }
    await createActor(client, makeActor('echo', { scaling: { enabled: true } }));
    const r = new Reconciler({ client: cached, fresh: client, config: makeConfig(), transports: new Map([['rabbitmq', rabbit]]), runtimeScript: 'x', logger, clock: () => now });
    await r.reconcile('default', 'echo');
    settleWorkload(client, 'default', 'echo');
    kedaScale(client, 'default', 'echo', 1);
    await r.reconcile('default', 'echo');
    client.resetCalls();
    await r.reconcile('default', 'echo');
    // served(ScaledObject) is asked once a minute at most; nothing else goes to the API server.
    expect(client.calls.filter((c) => c.verb === 'get' || c.verb === 'list')).toEqual([]);
    expect(client.writes()).toEqual([]);
  });
});
