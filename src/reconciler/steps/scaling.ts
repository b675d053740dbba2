// Step 7: KEDA's ScaledObject (and TriggerAuthentication) when scaling is on, and what KEDA wants (DESIRED, from
// its HPA); deleted when scaling is off; said plainly when KEDA is not installed.
import type { DefaultedActor } from '../../api/schema.js';
import { KINDS, KubeApiError, type KubeObject } from '../../kube/client.js';
import { kedaHpaNameFor, triggerAuthNameFor } from '../../names.js';
import { pluginOf } from '../../transports/registry.js';
import { desiredScaling } from '../desired.js';
import { errMessage, isRetriable } from '../errors.js';
import { ownedBy, type ReconcileKit } from '../kit.js';
import { EVENT, REASON } from '../reasons.js';
import { CONDITION } from '../status.js';
import type { ActorContext, ConditionStep, Observed, QueueState } from './context.js';

/** Re-check for KEDA this often while its CRDs are missing (it may be installed later). */
const KEDA_MISSING_RECHECK_MS = 5 * 60_000;
/** KEDA creates the HPA shortly after the ScaledObject: look again soon while the ScaledObject is young. */
const HPA_WAIT_MS = 5_000;
const HPA_WAIT_WINDOW_MS = 120_000;
/** A ScaledObject KEDA has not reported on after that window (KEDA busy or absent): look again this often. */
const KEDA_PENDING_RECHECK_MS = 60_000;

export interface ScalingStep extends ConditionStep {
  /** DESIRED: what KEDA's HPA wants, else the workload's count, else spec.workload.replicas. */
  desiredReplicas?: number;
  scaledObjectRef?: { name: string; namespace: string };
}

export async function reconcileScaling(kit: ReconcileKit, ctx: ActorContext, queue: QueueState, observed: Observed): Promise<ScalingStep> {
  const actor = ctx.defaulted;
  if (!actor.spec.scaling.enabled) {
    await deleteScaling(kit, actor);
    return {
      condition: { type: CONDITION.scaling, status: 'True', reason: REASON.ScalingDisabled, message: `replicas fixed at ${actor.spec.workload.replicas} (spec.workload.replicas)` },
      desiredReplicas: actor.spec.workload.replicas,
    };
  }
  if (!(await kit.kedaIsServed())) {
    return {
      condition: {
        type: CONDITION.scaling,
        status: 'False',
        reason: REASON.KEDANotInstalled,
        message: 'the KEDA CRDs (scaledobjects.keda.sh) are not installed: the workload keeps its current replica count; install KEDA to scale on queue depth',
      },
      requeueAfterMs: KEDA_MISSING_RECHECK_MS,
      ...(observed.ours ? { desiredReplicas: observed.specReplicas } : {}),
    };
  }
  if (!queue.ready || !observed.ours) {
    return { condition: { type: CONDITION.scaling, status: 'Unknown', reason: REASON.WaitingForWorkload, message: 'the ScaledObject is created once the queue and the workload exist' } };
  }
  const s = await ensureScaledObject(kit, ctx, queue.url);
  return { ...s, scaledObjectRef: { name: ctx.name, namespace: ctx.namespace }, desiredReplicas: s.desiredReplicas ?? observed.specReplicas };
}

async function ensureScaledObject(kit: ReconcileKit, ctx: ActorContext, queueUrl: string | undefined): Promise<ScalingStep> {
  const { client } = kit;
  const { defaulted: actor, namespace: ns, name } = ctx;
  const uid = actor.metadata.uid;
  const desired = desiredScaling(actor, ctx.transportConfig, pluginOf(ctx.transportConfig).triggerNeedsQueueUrl ? queueUrl : undefined);
  if (!desired) return { condition: { type: CONDITION.scaling, status: 'True', reason: REASON.ScalingDisabled, message: 'scaling disabled' } };
  try {
    if (desired.triggerAuthentication) await kit.apply(KINDS.triggerAuthentication, desired.triggerAuthentication, uid, actor);
    else {
      const ta = await client.get<KubeObject>(KINDS.triggerAuthentication, ns, triggerAuthNameFor(name));
      if (ta && ownedBy(ta, uid)) await kit.deleteIgnoringMissing(KINDS.triggerAuthentication, ta);
    }
    const { object: so, changed } = await kit.apply(KINDS.scaledObject, desired.scaledObject, uid, actor);
    if (changed) {
      await kit.event(actor, 'Normal', EVENT.ScaledObjectApplied, `ScaledObject ${name}: ${actor.spec.scaling.minReplicas}..${actor.spec.scaling.maxReplicas} replicas, ${actor.spec.scaling.queueLength} messages per replica`);
    }
    const ready = ((so.status as { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
    // ScaledObjectReady only once KEDA says so; until then ScaledObjectApplied (the watch on ScaledObjects brings
    // KEDA's answer; the requeue below is the safety net).
    const condition =
      ready?.status === 'False'
        ? { type: CONDITION.scaling, status: 'False' as const, reason: REASON.ScaledObjectNotReady, message: `KEDA: ${ready.reason ?? ''} ${ready.message ?? ''}`.trim() }
        : ready?.status === 'True'
          ? { type: CONDITION.scaling, status: 'True' as const, reason: REASON.ScaledObjectReady, message: `ScaledObject ${name} is ready` }
          : { type: CONDITION.scaling, status: 'True' as const, reason: REASON.ScaledObjectApplied, message: `ScaledObject ${name} applied, waiting for KEDA to report it Ready` };
    const hpa = await client.get<KubeObject>(KINDS.hpa, ns, kedaHpaNameFor(name));
    // The HPA's desiredReplicas means something only while it computes (ScalingActive): at zero replicas it is
    // disabled, and KEDA itself activates the workload 0 -> 1; then the workload's count is what KEDA wants.
    const hpaStatus = hpa?.status as { desiredReplicas?: number; conditions?: Array<{ type?: string; status?: string }> } | undefined;
    const hpaActive = (hpaStatus?.conditions ?? []).some((c) => c.type === 'ScalingActive' && c.status === 'True');
    const desiredReplicas = hpaActive ? hpaStatus?.desiredReplicas : undefined;
    const young = kit.now() - Date.parse(so.metadata.creationTimestamp ?? '') < HPA_WAIT_WINDOW_MS;
    const requeueAfterMs = (!hpa && young) || (!ready && young) ? HPA_WAIT_MS : !ready ? KEDA_PENDING_RECHECK_MS : undefined;
    return { condition, ...(desiredReplicas !== undefined ? { desiredReplicas } : {}), ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  } catch (err) {
    if (isRetriable(err) && !(err instanceof KubeApiError && err.reason === 'NotOwned')) throw err;
    return { condition: { type: CONDITION.scaling, status: 'False', reason: REASON.ScaledObjectFailed, message: errMessage(err) } };
  }
}

/** Scaling turned off: the KEDA objects go (KEDA then leaves the workload at its count). */
async function deleteScaling(kit: ReconcileKit, actor: DefaultedActor): Promise<void> {
  if (await deleteOwnedKedaObjects(kit, actor)) {
    await kit.event(actor, 'Normal', EVENT.ScaledObjectDeleted, `scaling disabled: deleted ScaledObject ${actor.metadata.name ?? ''}`);
  }
}

/** Deletes the actor's ScaledObject and TriggerAuthentication where it owns them; true when a ScaledObject went. */
async function deleteOwnedKedaObjects(kit: ReconcileKit, actor: Pick<KubeObject, 'metadata'>): Promise<boolean> {
  if (!(await kit.kedaIsServed())) return false;
  const ns = actor.metadata.namespace ?? '';
  const name = actor.metadata.name ?? '';
  let scaledObjectDeleted = false;
  for (const [kind, n] of [
    [KINDS.scaledObject, name],
    [KINDS.triggerAuthentication, triggerAuthNameFor(name)],
  ] as const) {
    const existing = await kit.client.get<KubeObject>(kind, ns, n);
    if (existing && ownedBy(existing, actor.metadata.uid)) {
      await kit.deleteIgnoringMissing(kind, existing);
      if (kind === KINDS.scaledObject) scaledObjectDeleted = true;
    }
  }
  return scaledObjectDeleted;
}
