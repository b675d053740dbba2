// Step 2: the actor's queue on its transport, unless another actor owns it; and the passive check of every
// queue on its own short period (a queue deleted behind our back).
import type { AsyncActor } from '../../api/schema.js';
import { findTransport } from '../../config/load.js';
import type { KubeObject } from '../../kube/client.js';
import { queueNameFor } from '../../names.js';
import { isTransportError } from '../../transports/types.js';
import { hashOf } from '../desired.js';
import type { ReconcileKit } from '../kit.js';
import { EVENT, REASON } from '../reasons.js';
import type { ActorContext, QueueState } from './context.js';

/** Passive queue checks run this many at a time. */
const QUEUE_CHECK_PARALLEL = 8;

function queueTakenMessage(actor: KubeObject, owner: KubeObject): string {
  const queue = queueNameFor(actor.metadata.name ?? '');
  return `queue ${queue} belongs to actor ${owner.metadata.namespace}/${owner.metadata.name} (queue names leave out the namespace); rename this actor: nothing is done with the queue until then`;
}

/**
 * The actor that owns this actor's queue when it is not this one: queue names leave out the namespace, so two
 * actors of one name in two namespaces on one transport would share a queue (the webhook refuses the second
 * from its cache, which can be behind). The first created keeps it; ties go to the namespace first in order.
 */
export function queueOwner(kit: ReconcileKit, actor: AsyncActor & KubeObject, transport: string): (AsyncActor & KubeObject) | undefined {
  const name = actor.metadata.name;
  const rank = (a: KubeObject) => `${a.metadata.creationTimestamp ?? ''}\u0000${a.metadata.namespace ?? ''}`;
  let first: (AsyncActor & KubeObject) | undefined;
  for (const other of kit.deps.actors?.() ?? []) {
    if (other.metadata.name !== name || other.spec?.transport !== transport) continue;
    if (!first || rank(other) < rank(first)) first = other;
  }
  return first && first.metadata.namespace !== actor.metadata.namespace ? first : undefined;
}

/** Whether another actor (another namespace, same name and transport) maps to this actor's queue. */
export function queueShared(kit: ReconcileKit, actor: AsyncActor & KubeObject, transport: string): boolean {
  const { name, namespace } = actor.metadata;
  return (kit.deps.actors?.() ?? []).some((a) => a.metadata.name === name && a.metadata.namespace !== namespace && a.spec?.transport === transport);
}

export async function ensureQueue(kit: ReconcileKit, ctx: ActorContext): Promise<QueueState> {
  const { actor, transportConfig: tc, transport, queue: spec, key } = ctx;
  const owner = queueOwner(kit, actor, tc.name);
  if (owner) {
    await kit.eventOnce(`queue-taken/${actor.metadata.uid}/${owner.metadata.uid}`, actor, 'Warning', EVENT.QueueOwnedByAnotherActor, queueTakenMessage(actor, owner));
    return { ready: false, reason: REASON.QueueOwnedByAnotherActor, message: queueTakenMessage(actor, owner), ownedByAnother: true };
  }
  if (!transport) return { ready: false, reason: REASON.TransportNotConfigured, message: `no client for transport ${tc.name}` };
  const intent = hashOf({ transport: tc.name, type: tc.type, config: tc.config, queue: spec });
  const known = kit.ensured.get(key);
  try {
    if (known && known.hash === intent) {
      // Idle path: one passive check that also gives the depth.
      const stats = await transport.stats(spec);
      if (stats) return { ready: true, reason: REASON.QueueReady, message: `queue ${spec.name} exists`, stats, url: known.url };
      kit.logger.warn('queue disappeared, declaring it again', { queue: spec.name, transport: tc.name });
      await kit.event(actor, 'Warning', EVENT.QueueRecreated, `queue ${spec.name} was gone from ${tc.name} (deleted outside the reconciler, or the broker lost it); declared again: messages sent meanwhile were dropped`);
    }
    const info = await transport.ensureQueue(spec);
    kit.ensured.set(key, { hash: intent, url: info.url });
    const stats = await transport.stats(spec);
    return { ready: true, reason: REASON.QueueReady, message: `queue ${spec.name} declared on ${tc.name}`, url: info.url, ...(stats ? { stats } : {}) };
  } catch (err) {
    kit.ensured.delete(key);
    if (!isTransportError(err)) throw err;
    return { ready: false, reason: err.reason, message: err.message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
  }
}

/**
 * Keys of the actors whose queue, declared by this process, is gone from the broker: a passive check each,
 * a few at a time. Their reconcile declares the queue again and says so.
 */
export async function missingQueues(kit: ReconcileKit, actors: ReadonlyArray<AsyncActor & KubeObject>): Promise<string[]> {
  const missing: string[] = [];
  const todo = actors.filter((a) => !a.metadata.deletionTimestamp && kit.ensured.has(`${a.metadata.namespace}/${a.metadata.name}`));
  const check = async (a: AsyncActor & KubeObject): Promise<void> => {
    const ns = a.metadata.namespace ?? '';
    const name = a.metadata.name ?? '';
    const found = findTransport(kit.config, String(a.spec?.transport ?? ''));
    const transport = found.ok ? kit.deps.transports.get(found.transport.name) : undefined;
    if (!transport) return;
    try {
      if (!(await transport.queueExists({ name: queueNameFor(name), actorName: name, actorNamespace: ns }))) missing.push(`${ns}/${name}`);
    } catch {
      // A broker that cannot be asked is the reconcile's business (TransportReady), not this check's.
    }
  };
  for (let i = 0; i < todo.length; i += QUEUE_CHECK_PARALLEL) await Promise.all(todo.slice(i, i + QUEUE_CHECK_PARALLEL).map(check));
  return missing;
}
