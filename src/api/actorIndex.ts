// In-memory index of AsyncActors (defaulted once on insert), looked up by namespace/name and by queue.
// Fed by the informer (src/kube/actorInformer.ts) in the server and by files in the CLI.
import { queueNameFor } from '../names.js';
import type { AsyncActor, DefaultedActor } from './schema.js';
import { defaultActor, type ActorLookup } from './validate.js';

export interface ActorStore extends ActorLookup {
  get(namespace: string, name: string): DefaultedActor | undefined;
  readonly size: number;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;
const queueKey = (transport: string, queue: string) => `${transport}\u0000${queue}`;

export class ActorIndex implements ActorStore {
  private readonly byKey = new Map<string, DefaultedActor>();
  private readonly byQueue = new Map<string, Set<string>>();

  upsert(actor: AsyncActor): void {
    const ns = actor.metadata?.namespace ?? 'default';
    const name = actor.metadata?.name;
    if (!name) return;
    this.remove(ns, name);
    const defaulted = defaultActor({ ...actor, metadata: { ...actor.metadata, namespace: ns } });
    this.byKey.set(key(ns, name), defaulted);
    const qk = queueKey(String(defaulted.spec?.transport), queueNameFor(name));
    let set = this.byQueue.get(qk);
    if (!set) this.byQueue.set(qk, (set = new Set()));
    set.add(key(ns, name));
  }

  remove(namespace: string, name: string): void {
    const k = key(namespace, name);
    const old = this.byKey.get(k);
    if (!old) return;
    this.byKey.delete(k);
    const qk = queueKey(String(old.spec?.transport), queueNameFor(name));
    const set = this.byQueue.get(qk);
    set?.delete(k);
    if (set && set.size === 0) this.byQueue.delete(qk);
  }

  /** Replaces the whole content (after a relist). */
  replaceAll(actors: Iterable<AsyncActor>): void {
    this.byKey.clear();
    this.byQueue.clear();
    for (const a of actors) this.upsert(a);
  }

  get(namespace: string, name: string): DefaultedActor | undefined {
    return this.byKey.get(key(namespace, name));
  }

  *actorsWithQueue(transport: string, queueName: string): Iterable<{ namespace: string; name: string }> {
    for (const k of this.byQueue.get(queueKey(transport, queueName)) ?? []) {
      const a = this.byKey.get(k);
      if (a) yield { namespace: a.metadata.namespace ?? 'default', name: a.metadata.name ?? '' };
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}
