// One contract for every KubeClient: the API server's rules a reconciler relies on. It runs against the
// in-memory client (test/unit/kubeContract.test.ts) and against the REST client on a real kube-apiserver with
// kube-controller-manager (test/e2e/kubeContract.e2e.test.ts), so the fake that the unit tests and benchmarks
// use cannot drift from the real thing.
import { expect, test } from '@jest/globals';
import { KubeApiError, KINDS, type KubeClient, type KubeObject, type ResourceKind } from '../../src/kube/client.js';

export interface ContractTarget {
  client: KubeClient;
  namespace: string;
  /** Waits for what a controller does in the background (garbage collection): at once in memory, polled for real. */
  eventually<T>(what: string, fn: () => Promise<T | undefined | false>): Promise<T>;
}

/** A custom resource with a status subresource and no controller: what the API server alone does with it. */
export const WIDGET: ResourceKind = { apiVersion: 'contract.asya.sh/v1', kind: 'Widget', plural: 'widgets', namespaced: true, statusSubresource: true };

export const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.contract.asya.sh' },
  spec: {
    group: 'contract.asya.sh',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
      },
    ],
  },
};

const status = (err: unknown): number | string => (err instanceof KubeApiError ? err.status : `not a KubeApiError: ${String(err)}`);

async function failure(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return status(err);
  }
}

/** Registers the contract's tests; `target()` is read inside each test (after the file's beforeAll). */
export function kubeClientContract(target: () => ContractTarget): void {
  let n = 0;
  const name = (what: string) => `${what}-${++n}`;
  const widget = (ns: string, nm: string, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: WIDGET.apiVersion, kind: WIDGET.kind, metadata: { name: nm, namespace: ns }, spec: { size: 1 }, ...extra });
  const configMap = (ns: string, nm: string, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: nm, namespace: ns }, data: { a: '1' }, ...extra });

  test('create sets uid, resourceVersion, creationTimestamp and generation 1; creating it again is 409', async () => {
    const { client, namespace } = target();
    const w = await client.create(WIDGET, widget(namespace, name('w')));
    expect(w.metadata).toMatchObject({ uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.any(String), generation: 1 });
    expect(await failure(client.create(WIDGET, widget(namespace, w.metadata.name!)))).toBe(409);
  });

  test('get of a missing object is undefined; delete of one is false', async () => {
    const { client, namespace } = target();
    expect(await client.get(KINDS.configMap, namespace, 'not-there')).toBeUndefined();
    expect(await client.delete(KINDS.configMap, namespace, 'not-there')).toBe(false);
  });

  test('update with a stale resourceVersion is 409; with the current one it succeeds; a no-op update keeps the resourceVersion', async () => {
    const { client, namespace } = target();
    const first = await client.create(KINDS.configMap, configMap(namespace, name('cm')));
    const second = await client.update(KINDS.configMap, { ...first, data: { a: '2' } });
    expect(second.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(await failure(client.update(KINDS.configMap, { ...first, data: { a: '3' } }))).toBe(409);
    const same = await client.update(KINDS.configMap, second);
    expect(same.metadata.resourceVersion).toBe(second.metadata.resourceVersion);
    expect((await client.get<KubeObject>(KINDS.configMap, namespace, first.metadata.name!))!.data).toEqual({ a: '2' });
  });

  test('status subresource: update keeps the stored status, updateStatus keeps the stored spec; only spec changes move generation', async () => {
    const { client, namespace } = target();
    const created = await client.create(WIDGET, widget(namespace, name('w'), { status: { phase: 'ignored on create' } }));
    expect(created.status).toBeUndefined();
    const withStatus = await client.updateStatus(WIDGET, { ...created, spec: { size: 99 }, status: { phase: 'Ready' } });
    expect(withStatus).toMatchObject({ spec: { size: 1 }, status: { phase: 'Ready' }, metadata: { generation: 1 } });
    const relabelled = await client.update(WIDGET, { ...withStatus, metadata: { ...withStatus.metadata, labels: { team: 'a' } }, status: { phase: 'overwritten?' } });
    expect(relabelled).toMatchObject({ status: { phase: 'Ready' }, metadata: { generation: 1, labels: { team: 'a' } } });
    const resized = await client.update(WIDGET, { ...relabelled, spec: { size: 2 } });
    expect(resized).toMatchObject({ spec: { size: 2 }, status: { phase: 'Ready' }, metadata: { generation: 2 } });
  });

  test('finalizers: delete only marks the object; no finalizer may be added then; the last one removed deletes it', async () => {
    const { client, namespace } = target();
    const nm = name('w');
    await client.create(WIDGET, widget(namespace, nm, { metadata: { name: nm, namespace, finalizers: ['contract.asya.sh/hold'] } }));
    expect(await client.delete(WIDGET, namespace, nm)).toBe(true);
    const marked = (await client.get<KubeObject>(WIDGET, namespace, nm))!;
    expect(marked.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect(await failure(client.update(WIDGET, { ...marked, metadata: { ...marked.metadata, finalizers: ['contract.asya.sh/hold', 'contract.asya.sh/more'] } }))).toBe(422);
    await client.update(WIDGET, { ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    expect(await client.get(WIDGET, namespace, nm)).toBeUndefined();
  });

  test('delete with the uid of another object (re-created meanwhile) is 409 and deletes nothing', async () => {
    const { client, namespace } = target();
    const nm = name('cm');
    const old = await client.create(KINDS.configMap, configMap(namespace, nm));
    await client.delete(KINDS.configMap, namespace, nm);
    await client.create(KINDS.configMap, configMap(namespace, nm));
    expect(await failure(client.delete(KINDS.configMap, namespace, nm, { uid: old.metadata.uid! }))).toBe(409);
    expect(await client.get(KINDS.configMap, namespace, nm)).toBeDefined();
  });

  test('owner references: dependents go with their owner (background), stay without the reference when orphaned; a reference without uid is 422', async () => {
    const { client, namespace, eventually } = target();
    const ownerRef = (o: KubeObject) => [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, controller: true }];
    const owner = await client.create(KINDS.configMap, configMap(namespace, name('owner')));
    const dep = await client.create(KINDS.configMap, configMap(namespace, name('dep'), { metadata: { name: `dep-${n}`, namespace, ownerReferences: ownerRef(owner) } }));
    const owner2 = await client.create(KINDS.configMap, configMap(namespace, name('owner')));
    const kept = await client.create(KINDS.configMap, configMap(namespace, name('kept'), { metadata: { name: `kept-${n}`, namespace, ownerReferences: ownerRef(owner2) } }));
    await client.delete(KINDS.configMap, namespace, owner.metadata.name!);
    await client.delete(KINDS.configMap, namespace, owner2.metadata.name!, { propagationPolicy: 'Orphan' });
    await eventually('the dependent to be collected', async () => (await client.get(KINDS.configMap, namespace, dep.metadata.name!)) === undefined);
    const orphan = await eventually('the orphan to lose its owner reference', async () => {
      const o = await client.get<KubeObject>(KINDS.configMap, namespace, kept.metadata.name!);
      return o && !(o.metadata.ownerReferences ?? []).length ? o : undefined;
    });
    expect(orphan.data).toEqual({ a: '1' });
    const badRef = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: '' }];
    expect(await failure(client.create(KINDS.configMap, configMap(namespace, name('bad'), { metadata: { name: `bad-${n}`, namespace, ownerReferences: badRef } })))).toBe(422);
  });

  test('list filters by namespace and labels', async () => {
    const { client, namespace } = target();
    const tag = name('tag');
    await client.create(KINDS.configMap, configMap(namespace, name('l'), { metadata: { name: `l-${n}`, namespace, labels: { tag } } }));
    await client.create(KINDS.configMap, configMap(namespace, name('l'), { metadata: { name: `l-${n}`, namespace, labels: { tag: 'other' } } }));
    const found = await client.list(KINDS.configMap, namespace, { labelSelector: { tag } });
    expect(found.map((o) => o.metadata.labels?.tag)).toEqual([tag]);
    expect(await client.list(KINDS.configMap, 'contract-no-such-namespace', { labelSelector: { tag } })).toEqual([]);
  });

  test('Deployment: the defaults a diffing reconciler meets, and spec.selector is immutable (422)', async () => {
    const { client, namespace } = target();
    const nm = name('d');
    const labels = { app: nm };
    const d = await client.create<KubeObject>(KINDS.deployment, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: nm, namespace },
      spec: {
        selector: { matchLabels: labels },
        // No node has this label: the pod stays Pending on a real node.
        template: { metadata: { labels }, spec: { nodeSelector: { 'contract.asya.sh/none': 'true' }, containers: [{ name: 'c', image: 'contract.invalid/none:1' }] } },
      },
    });
    expect(d.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler' } } });
    expect((d.spec as any).template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    let err: number | string = 'not tried';
    for (let i = 0; i < 5; i++) {
      // The deployment controller writes status meanwhile on a real cluster: take the latest before writing.
      const latest = (await client.get<KubeObject>(KINDS.deployment, namespace, nm))!;
      err = await failure(client.update(KINDS.deployment, { ...latest, spec: { ...(latest.spec as object), selector: { matchLabels: { app: 'other' } } } }));
      if (err !== 409) break;
    }
    expect(err).toBe(422);
    await client.delete(KINDS.deployment, namespace, nm);
  });
}
