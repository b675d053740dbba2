// Two behaviours of the reconcile loop proven end to end in test/e2e/reconciler.e2e.test.ts, here against the
// in-memory API server: pods admitted without the sidecar are recycled only while the pod webhook is
// registered and at a bounded rate; a missing runtime script skips the ConfigMap step and is reported once.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { AsyncActor } from '../../src/api/schema.js';
import { KINDS, type KubeObject } from '../../src/kube/client.js';
import { MemoryKubeClient } from '../support/memoryKube.js';
import { ACTOR_LABEL, INJECTION_STATUS_ANNOTATION, POD_WEBHOOK_NAME } from '../../src/names.js';
import { KubeEventRecorder } from '../../src/reconciler/events.js';
import { Reconciler } from '../../src/reconciler/reconcile.js';
import { readyPod, settleWorkload } from '../support/cluster.js';
import { createActor, logger, makeActor, makeConfig } from '../support/fixtures.js';
import { MemoryTransport } from '../support/memoryTransport.js';

let client: MemoryKubeClient;
const events = () => client.all<KubeObject & { reason: string; message: string }>(KINDS.event);
const actorNow = (name: string) => client.peek<AsyncActor & KubeObject>(KINDS.actor, 'default', name)!;

/** runtimeScript null: the file could not be read. */
function reconciler(runtimeScript: string | null = 'print("runtime")\n', excludedNamespaces?: string[]) {
  const config = makeConfig();
  if (excludedNamespaces) config.webhook.excludedNamespaces = excludedNamespaces;
  return new Reconciler({
    client,
    config,
    transports: new Map([['rabbitmq', new MemoryTransport('rabbitmq', 'rabbitmq')]]),
    runtimeScript: runtimeScript ?? undefined,
    logger,
    events: new KubeEventRecorder(client, logger),
  });
}

/** A pod of the actor's workload admitted while no pod webhook was registered. */
function barePod(actor: string, i: number): KubeObject {
  const p = readyPod(actor, 100 + i);
  delete p.metadata.annotations?.[INJECTION_STATUS_ANNOTATION];
  const w = client.peek<KubeObject>(KINDS.deployment, 'default', actor)!;
  return { ...p, metadata: { ...p.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: actor, uid: w.metadata.uid ?? '', controller: true }] } };
}

const registerWebhook = () =>
  client.simulate(KINDS.mutatingWebhookConfiguration, { metadata: { name: 'asya' }, webhooks: [{ name: POD_WEBHOOK_NAME }] } as KubeObject);
const podNames = (actor: string) =>
  client.all<KubeObject>(KINDS.pod).filter((p) => p.metadata.labels?.[ACTOR_LABEL] === actor).map((p) => p.metadata.name).sort();

beforeEach(() => {
  client = new MemoryKubeClient();
});

describe('pods admitted without the sidecar', () => {
  it('are left alone while no pod webhook is registered (looked at again later), then recycled one at a time with an Event', async () => {
    await createActor(client, makeActor('w', { workload: { replicas: 2 } }));
    const r = reconciler();
    await r.reconcile('default', 'w');
    settleWorkload(client, 'default', 'w');
    client.simulate(KINDS.pod, barePod('w', 1));
    client.simulate(KINDS.pod, barePod('w', 2));
    const first = await r.reconcile('default', 'w');
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(podNames('w')).toEqual(['w-0', 'w-1', 'w-101', 'w-102']);

    registerWebhook();
    const r2 = reconciler(); // a fresh process: the answer "no webhook" is cached for a few seconds
    const second = await r2.reconcile('default', 'w');
    expect(podNames('w')).toEqual(['w-0', 'w-1', 'w-102']);
    expect(second.requeueAfterMs).toBeGreaterThan(0); // one more to go, after the per-actor interval
    await r2.reconcile('default', 'w');
    expect(podNames('w')).toEqual(['w-0', 'w-1', 'w-102']); // rate-limited
    const recycled = events().filter((e) => e.reason === 'PodRecycled');
    expect(recycled).toHaveLength(1);
    expect(recycled[0]!.message).toContain('w-101');
  });

  it('never in a namespace the webhook excludes (it would never inject them)', async () => {
    await createActor(client, makeActor('x', { workload: { replicas: 1 } }));
    registerWebhook();
    const r = reconciler('print("runtime")\n', ['default']);
    await r.reconcile('default', 'x');
    settleWorkload(client, 'default', 'x');
    client.simulate(KINDS.pod, barePod('x', 1));
    await r.reconcile('default', 'x');
    expect(podNames('x')).toContain('x-101');
  });
});

describe('the runtime script missing', () => {
  it('skips only the ConfigMap, says so in WorkloadReady and with one Event per actor', async () => {
    await createActor(client, makeActor('m', { workload: { replicas: 1 } }));
    const r = reconciler(null);
    await r.reconcile('default', 'm');
    settleWorkload(client, 'default', 'm');
    await r.reconcile('default', 'm');
    await r.reconcile('default', 'm');
    expect(client.peek(KINDS.configMap, 'default', 'asya-runtime')).toBeUndefined();
    expect(client.peek(KINDS.deployment, 'default', 'm')).toBeDefined();
    const wr = actorNow('m').status?.conditions?.find((c) => c.type === 'WorkloadReady');
    expect(wr).toMatchObject({ status: 'True' });
    expect(wr?.message).toContain('is missing in the reconciler');
    expect(events().filter((e) => e.reason === 'RuntimeScriptMissing')).toHaveLength(1);
  });
});
