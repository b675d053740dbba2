// An actor being deleted: its queue (unless kept: reconciler.deleteQueues, the skip annotation, an end queue,
// a queue another actor maps to), then our finalizer. Everything else of the actor (workload, ScaledObject,
// TriggerAuthentication, ServiceAccount) is owned by it and goes by garbage collection once it is gone, or
// stays with `--cascade=orphan`, as the user asked: deleting them here cost two writes per actor and made
// every finalizer wait for them (npm run bench:e2e -- upstream). A broker that stays down holds the deletion
// until queueDeletionTimeoutSeconds; until then the status says why and how to let go at once.
import type { AsyncActor } from '../../api/schema.js';
import { findTransport } from '../../config/load.js';
import { KINDS, isNotFound, type KubeObject } from '../../kube/client.js';
import { END_QUEUES, FINALIZER, SKIP_QUEUE_DELETION_ANNOTATION, queueNameFor } from '../../names.js';
import { isTransportError } from '../../transports/types.js';
import { TransientError } from '../errors.js';
import type { ReconcileKit } from '../kit.js';
import { EVENT } from '../reasons.js';
import { CONDITION, computeStatus } from '../status.js';
import { queueShared } from './queue.js';
import { noPodsFacts, writeStatus } from './status.js';

export async function finalize(kit: ReconcileKit, actor: AsyncActor & KubeObject): Promise<void> {
  if (!(actor.metadata.finalizers ?? []).includes(FINALIZER)) return;
  const ns = actor.metadata.namespace ?? '';
  const name = actor.metadata.name ?? '';
  await deleteActorQueue(kit, actor);
  kit.forget(`${ns}/${name}`);
  try {
    await kit.client.update(KINDS.actor, { ...actor, metadata: { ...actor.metadata, finalizers: (actor.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Deletes the actor's queue unless it is kept; throws TransientError while the broker refuses (until the timeout). */
async function deleteActorQueue(kit: ReconcileKit, actor: AsyncActor & KubeObject): Promise<void> {
  const ns = actor.metadata.namespace ?? '';
  const name = actor.metadata.name ?? '';
  const queue = queueNameFor(name);
  const skip = actor.metadata.annotations?.[SKIP_QUEUE_DELETION_ANNOTATION] === 'true';
  const found = findTransport(kit.config, String(actor.spec?.transport ?? ''));
  const transport = found.ok ? kit.deps.transports.get(found.transport.name) : undefined;
  // The end queues are the transport's, not the end actor's: every sidecar needs them (endQueues.ts). And a
  // queue another actor maps to (the same name in another namespace) stays: it may hold that actor's messages.
  const shared = found.ok && queueShared(kit, actor, found.transport.name);
  if (shared) await kit.event(actor, 'Normal', EVENT.QueueKept, `queue ${queue} is kept: another actor named ${name} uses it`);
  if (!kit.config.reconciler.deleteQueues || skip || !transport || shared || END_QUEUES.includes(queue)) return;
  try {
    await transport.deleteQueue({ name: queue, actorName: name, actorNamespace: ns });
    await kit.event(actor, 'Normal', EVENT.QueueDeleted, `deleted queue ${queue} on ${transport.name}`);
  } catch (err) {
    if (!isTransportError(err)) throw err;
    const timeoutS = kit.config.reconciler.queueDeletionTimeoutSeconds;
    const ageMs = kit.now() - Date.parse(actor.metadata.deletionTimestamp ?? '');
    if (timeoutS === 0 || ageMs < timeoutS * 1000) {
      const message = `cannot delete queue ${queue}: ${err.message}; retrying${timeoutS ? ` for up to ${timeoutS}s` : ''}. To delete the actor now and keep the queue, annotate it ${SKIP_QUEUE_DELETION_ANNOTATION}=true`;
      const prev = actor.status?.conditions?.find((c) => c.type === CONDITION.transport);
      if (prev?.status !== 'False' || prev.reason !== err.reason) await kit.event(actor, 'Warning', EVENT.QueueDeletionFailed, message);
      const status = computeStatus({
        previous: actor.status,
        generation: actor.metadata.generation,
        now: kit.nowIso(),
        conditions: [
          { type: CONDITION.transport, status: 'False', reason: err.reason, message },
          ...(actor.status?.conditions ?? []).filter((c) => c.type !== CONDITION.transport).map(({ type, status, reason, message }) => ({ type, status, reason, message })),
        ],
        facts: { ...noPodsFacts(), deleting: true },
      });
      await writeStatus(kit, actor, { ...actor.status, ...status });
      throw new TransientError(message, true);
    }
    await kit.event(actor, 'Warning', EVENT.QueueDeletionAbandoned, `gave up deleting queue ${queue} after ${timeoutS}s: ${err.message}; the queue is left on the broker`);
  }
}
