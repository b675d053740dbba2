// Step 5: the Deployment or StatefulSet of spec.workload (src/workloads/ for what differs by kind), and then
// what it is now: the object and its pods, from the caches.
import { KINDS, type KubeObject } from '../../kube/client.js';
import { ACTOR_LABEL, IMMUTABLE_HASH_ANNOTATION } from '../../names.js';
import { otherWorkloadKinds, workloadKind } from '../../workloads/index.js';
import { desiredWorkload } from '../desired.js';
import { errMessage, isRetriable } from '../errors.js';
import { ownedBy, type ReconcileKit } from '../kit.js';
import { EVENT, REASON } from '../reasons.js';
import { CONDITION, type PodLike } from '../status.js';
import type { ActorContext, ConditionStep, Observed } from './context.js';

/** Waiting for an object we deleted to go away before re-creating it. */
const RECREATE_WAIT_MS = 2_000;

const ok = (message: string): ConditionStep => ({ condition: { type: CONDITION.workload, status: 'True', reason: REASON.WorkloadReady, message } });
const fail = (reason: string, message: string): ConditionStep => ({ condition: { type: CONDITION.workload, status: 'False', reason, message } });

export async function ensureWorkload(kit: ReconcileKit, ctx: ActorContext): Promise<ConditionStep> {
  const { client } = kit;
  const { defaulted: actor, namespace: ns, name } = ctx;
  const uid = actor.metadata.uid;
  const desired = desiredWorkload(actor, ctx.transportConfig);
  const module = workloadKind(desired.kind);
  const kindRef = module.resource;
  try {
    // A kind change: the workload of the other kind goes first (a name can serve one kind only, for clarity).
    for (const otherKind of otherWorkloadKinds(desired.kind)) {
      const other = await client.get<KubeObject>(otherKind.resource, ns, name);
      if (other && ownedBy(other, uid)) {
        await kit.deleteIgnoringMissing(otherKind.resource, other, 'Background');
        await kit.event(actor, 'Normal', EVENT.WorkloadKindChanged, `deleted ${otherKind.kind} ${name}: spec.workload.kind is now ${desired.kind}`);
      }
    }
    let existing = await client.get<KubeObject>(kindRef, ns, name);
    if (!existing) {
      // With scaling on, KEDA owns the count, but only once its ScaledObject exists: created without replicas
      // the workload would start at the API default 1 and make a pod per actor that KEDA then removes.
      const initial = desired.replicas === undefined ? actor.spec.scaling.minReplicas : undefined;
      const object = initial === undefined ? desired.object : { ...desired.object, spec: { ...(desired.object.spec as Record<string, unknown>), replicas: initial } };
      try {
        await client.create(kindRef, object);
        await kit.event(actor, 'Normal', EVENT.WorkloadCreated, `created ${desired.kind} ${name}`);
        return ok(`${desired.kind} ${name} created`);
      } catch (err) {
        // There, but not in the cache: behind, or no longer selected (its asya.sh/actor label removed).
        existing = await kit.existingAfterConflict(kindRef, ns, name, err);
      }
    }
    if (!ownedBy(existing, uid)) return fail(REASON.WorkloadConflict, `${desired.kind} ${ns}/${name} exists and is not owned by this actor; delete or rename it`);
    if (existing.metadata.deletionTimestamp) {
      return { ...fail(REASON.WorkloadRecreating, `waiting for the old ${desired.kind} ${name} to be deleted`), requeueAfterMs: RECREATE_WAIT_MS };
    }
    if (existing.metadata.annotations?.[IMMUTABLE_HASH_ANNOTATION] !== desired.object.metadata.annotations?.[IMMUTABLE_HASH_ANNOTATION]) {
      // Selector or claim templates changed: the API server refuses the update (422), so replace it deliberately.
      await kit.deleteIgnoringMissing(kindRef, existing, module.replacePropagation);
      await kit.event(actor, 'Normal', EVENT.WorkloadRecreated, `${desired.kind} ${name} is re-created because an immutable field changed (selector, serviceName or volumeClaimTemplates)`);
      return { ...fail(REASON.WorkloadRecreating, `re-creating ${desired.kind} ${name} for a change of an immutable field`), requeueAfterMs: RECREATE_WAIT_MS };
    }
    // The fields we own (template, selector, replicas when scaling is off), labels and owner; not what the API
    // server defaulted, nor replicas under KEDA.
    const d = kit.drift(desired.object, existing);
    if (d.upToDate) return ok(`${desired.kind} ${name} up to date`);
    const spec = { ...(desired.object.spec as Record<string, unknown>) };
    // KEDA owns the count when scaling is on: a replace without replicas would reset it to 1.
    const replicas = (existing.spec as { replicas?: number } | undefined)?.replicas;
    if (desired.replicas === undefined && replicas !== undefined) spec.replicas = replicas;
    const written = await client.update(kindRef, {
      ...existing,
      metadata: {
        ...existing.metadata,
        labels: { ...(existing.metadata.labels ?? {}), ...(desired.object.metadata.labels ?? {}) },
        annotations: { ...(existing.metadata.annotations ?? {}), ...(desired.object.metadata.annotations ?? {}) },
        ownerReferences: desired.object.metadata.ownerReferences,
      },
      spec,
    });
    await kit.afterWrite(kindRef, desired.object, written, d, actor);
    return ok(`${desired.kind} ${name} updated`);
  } catch (err) {
    if (isRetriable(err)) throw err;
    return fail(REASON.WorkloadFailed, errMessage(err));
  }
}

/** The workload as it is now and its pods (from the caches: no API call). */
export async function observeWorkload(kit: ReconcileKit, ctx: ActorContext): Promise<Observed> {
  const workload = await kit.client.get<KubeObject>(workloadKind(ctx.defaulted.spec.workload.kind).resource, ctx.namespace, ctx.name);
  const ours = !!workload && ownedBy(workload, ctx.actor.metadata.uid);
  const pods = ours ? await kit.client.list<KubeObject & PodLike>(KINDS.pod, ctx.namespace, { labelSelector: { [ACTOR_LABEL]: ctx.name } }) : [];
  return { workload, ours, pods, specReplicas: (workload?.spec as { replicas?: number } | undefined)?.replicas ?? 1 };
}
