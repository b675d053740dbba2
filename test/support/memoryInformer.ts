// An informer over MemoryKubeClient for tests of the cached reads (src/reconciler/cache.ts): its store follows
// the memory API server's watch events, filtered by a label selector as a real informer's would be.
import type { KubeObject, ResourceKind } from '../../src/kube/client.js';
import { matchesLabels } from '../../src/kube/client.js';
import { newerVersion, type RunningInformer } from '../../src/kube/informer.js';
import type { MemoryKubeClient } from './memoryKube.js';

export function memoryInformer(client: MemoryKubeClient, kind: ResourceKind, labelSelector?: Record<string, string>): RunningInformer & { paused: boolean } {
  const store = new Map<string, KubeObject>();
  const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  for (const o of client.all<KubeObject>(kind)) if (matchesLabels(o, labelSelector)) store.set(key(o), o);
  const informer = {
    name: kind.plural,
    synced: true,
    ready: Promise.resolve(),
    /** While paused the store falls behind the API server (events are dropped). */
    paused: false,
    list: () => [...store.values()],
    get: (ns: string, name: string) => store.get(`${ns}/${name}`),
    assume: (o: KubeObject) => {
      if (newerVersion(o.metadata.resourceVersion, store.get(key(o))?.metadata.resourceVersion)) store.set(key(o), structuredClone(o));
    },
    stop: async () => undefined,
  };
  client.watch((e) => {
    if (informer.paused || e.kind.kind !== kind.kind || e.kind.apiVersion !== kind.apiVersion) return;
    // Leaving the selector is a deletion for a label-selected watch.
    if (e.type === 'DELETED' || !matchesLabels(e.object, labelSelector)) store.delete(key(e.object));
    else store.set(key(e.object), structuredClone(e.object));
  });
  return informer;
}
