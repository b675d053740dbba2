// One reconcile of one AsyncActor, as a sequence of idempotent steps (steps/*): each reads from the caches,
// compares with what the actor wants (desired.ts, compare.ts), writes only what differs, and gives its part of
// the status. A step reports a failure by throwing (errors.ts: transient comes back with backoff, terminal does
// not) and a known wait by returning requeueAfterMs.
import type { AsyncActor } from '../api/schema.js';
import { findTransport } from '../config/load.js';
import { KINDS, type KubeObject } from '../kube/client.js';
import { queueNameFor } from '../names.js';
import { ensureEndQueues } from './endQueues.js';
import { TransientError } from './errors.js';
import { ReconcileKit, type ReconcilerDeps } from './kit.js';
import { REASON } from './reasons.js';
import { minDefined, type ActorContext } from './steps/context.js';
import { finalize } from './steps/deletion.js';
import { ensureFinalizer } from './steps/finalizer.js';
import { recycleUninjectedPods } from './steps/podRecycling.js';
import { ensureQueue, missingQueues } from './steps/queue.js';
import { ensureRuntimeConfigMap } from './steps/runtimeConfigMap.js';
import { reconcileScaling } from './steps/scaling.js';
import { ensureServiceAccount } from './steps/serviceAccount.js';
import { reportConfigError, reportStatus, workloadCondition } from './steps/status.js';
import { ensureWorkload, observeWorkload } from './steps/workload.js';
import { CONDITION, type ConditionInput } from './status.js';

export type { ReconcilerDeps } from './kit.js';

export interface ReconcileResult {
  /** Come back after this long (a known wait). */
  requeueAfterMs?: number;
}

/** An actor whose queue another actor owns looks again this often (until that actor is gone or renamed). */
const QUEUE_OWNER_RECHECK_MS = 60_000;

export class Reconciler {
  private readonly kit: ReconcileKit;

  constructor(deps: ReconcilerDeps) {
    this.kit = new ReconcileKit(deps);
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const kit = this.kit;
    const key = `${namespace}/${name}`;
    const stored = await kit.client.get<AsyncActor & KubeObject>(KINDS.actor, namespace, name);
    if (!stored) {
      kit.forget(key);
      return {};
    }
    if (stored.metadata.deletionTimestamp) {
      await finalize(kit, stored);
      return {};
    }

    // 1. Our finalizer, before anything external exists.
    const actor = await ensureFinalizer(kit, stored);
    const validation = kit.validate(actor);
    const found = findTransport(kit.config, String(validation.actor.spec?.transport ?? ''));
    if (!found.ok || validation.errors.length > 0) {
      // Nothing to retry: a new spec or configuration brings the actor back through the informers.
      const message = !found.ok ? found.message : validation.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      await reportConfigError(kit, actor, !found.ok ? REASON.TransportNotConfigured : REASON.InvalidSpec, message);
      return {};
    }
    const ctx: ActorContext = {
      actor,
      defaulted: { ...validation.actor, metadata: actor.metadata },
      namespace,
      name,
      key,
      transportConfig: found.transport,
      transport: kit.deps.transports.get(found.transport.name),
      queue: { name: queueNameFor(name), actorName: name, actorNamespace: namespace },
    };

    // 2. The queue.
    const queue = await ensureQueue(kit, ctx);
    let requeueAfterMs = queue.retryAfterMs;
    let workload: ConditionInput = { type: CONDITION.workload, status: 'Unknown', reason: REASON.WaitingForQueue, message: 'the workload is created once the queue exists' };
    if (queue.ready) {
      // 3, 4. The pods' ServiceAccount and the runtime ConfigMap; 5. the workload.
      await ensureServiceAccount(kit, ctx);
      await ensureRuntimeConfigMap(kit, ctx);
      const w = await ensureWorkload(kit, ctx);
      workload = w.condition;
      requeueAfterMs = minDefined(requeueAfterMs, w.requeueAfterMs);
    }
    const observed = await observeWorkload(kit, ctx);
    // 6. Pods admitted without the sidecar.
    requeueAfterMs = minDefined(requeueAfterMs, (await recycleUninjectedPods(kit, ctx, observed)).requeueAfterMs);
    // 7. KEDA.
    const scaling = await reconcileScaling(kit, ctx, queue, observed);
    requeueAfterMs = minDefined(requeueAfterMs, scaling.requeueAfterMs);
    // 8. Status.
    await reportStatus(kit, ctx, queue, workloadCondition(kit, ctx, queue, workload, observed), scaling, observed);

    // A queue owned by another actor waits for that actor to go (its deletion enqueues nothing here: look again).
    if (queue.ownedByAnother) return { requeueAfterMs: QUEUE_OWNER_RECHECK_MS };
    // A broker fault is in the status already: come back with backoff (or after its known wait).
    if (!queue.ready && queue.retryAfterMs === undefined) throw new TransientError(`${key}: ${queue.message}`, true);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  /** Declares the end queues on every transport (endQueues.ts). */
  ensureEndQueues(): Promise<void> {
    return ensureEndQueues(this.kit);
  }

  /** Keys of the actors whose queue is gone from the broker (steps/queue.ts). */
  missingQueues(actors: ReadonlyArray<AsyncActor & KubeObject>): Promise<string[]> {
    return missingQueues(this.kit, actors);
  }
}
