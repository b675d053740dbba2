// Step 8: the actor's status from what the steps found (conditions, counts, DESIRED, QUEUED, STATUS), written
// only when it changed, with an Event for each condition that flipped.
import type { AsyncActor, AsyncActorStatus } from '../../api/schema.js';
import { KINDS, type KubeObject } from '../../kube/client.js';
import { stableStringify } from '../desired.js';
import type { ReconcileKit } from '../kit.js';
import { REASON } from '../reasons.js';
import { CONDITION, computeStatus, countPods, describeFailures, type ConditionInput, type StatusFacts } from '../status.js';
import type { ActorContext, Observed, QueueState } from './context.js';
import { runtimeMissingMessage } from './runtimeConfigMap.js';
import type { ScalingStep } from './scaling.js';

export function noPodsFacts(): StatusFacts {
  return {
    deleting: false,
    configError: false,
    transportReady: false,
    workloadError: false,
    workloadExists: false,
    rollingOut: false,
    specReplicas: 0,
    scalingEnabled: false,
    scalingReady: false,
    pods: { running: 0, pending: 0, failing: 0, total: 0, failures: [], unschedulable: 0 },
  };
}

/** WorkloadReady from the pods, and from the workload when it cannot even create them (the API server refuses the pods). */
export function workloadCondition(kit: ReconcileKit, ctx: ActorContext, queue: QueueState, fromStep: ConditionInput, observed: Observed): ConditionInput {
  if (!queue.ready || fromStep.status !== 'True') return fromStep;
  const kind = ctx.defaulted.spec.workload.kind;
  const conditions = (observed.workload?.status as { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> } | undefined)?.conditions ?? [];
  const replicaFailure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (observed.ours && replicaFailure) {
    return { type: CONDITION.workload, status: 'False', reason: replicaFailure.reason || REASON.FailedCreate, message: `${kind} ${ctx.name} cannot create pods: ${replicaFailure.message ?? ''}`.trim() };
  }
  const counts = countPods(observed.pods);
  if (counts.failing > 0) return { type: CONDITION.workload, status: 'False', reason: REASON.PodsFailing, message: describeFailures(counts.failures) };
  return {
    type: CONDITION.workload,
    status: 'True',
    reason: observed.specReplicas === 0 ? REASON.ScaledToZero : REASON.WorkloadReady,
    message: `${kind} ${ctx.name}: ${counts.running}/${observed.specReplicas} pods ready${kit.deps.runtimeScript === undefined ? `; ${runtimeMissingMessage(kit)}` : ''}`,
  };
}

export async function reportStatus(kit: ReconcileKit, ctx: ActorContext, queue: QueueState, workload: ConditionInput, scaling: ScalingStep, observed: Observed): Promise<void> {
  const { actor } = ctx;
  const w = observed.workload;
  const wstatus = (w?.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; replicas?: number };
  const status = computeStatus({
    previous: actor.status,
    generation: actor.metadata.generation,
    now: kit.nowIso(),
    conditions: [{ type: CONDITION.transport, status: queue.ready ? 'True' : 'False', reason: queue.reason, message: queue.message }, workload, scaling.condition],
    facts: {
      deleting: false,
      configError: false,
      transportReady: queue.ready,
      workloadError: workload.status === 'False' && workload.reason !== REASON.PodsFailing,
      workloadExists: observed.ours,
      rollingOut: observed.ours && ((wstatus.observedGeneration ?? 0) < (w?.metadata.generation ?? 0) || (wstatus.updatedReplicas ?? 0) < (wstatus.replicas ?? 0)),
      specReplicas: observed.specReplicas,
      scalingEnabled: ctx.defaulted.spec.scaling.enabled,
      scalingReady: scaling.condition.status === 'True',
      pods: countPods(observed.pods),
    },
    ...(scaling.desiredReplicas !== undefined ? { desiredReplicas: scaling.desiredReplicas } : {}),
    ...(queue.stats ? { queue: queue.stats } : {}),
    ...(observed.ours ? { workloadRef: { apiVersion: 'apps/v1', kind: ctx.defaulted.spec.workload.kind, name: ctx.name, namespace: ctx.namespace } } : {}),
    ...(scaling.scaledObjectRef ? { scaledObjectRef: scaling.scaledObjectRef } : {}),
  });
  await writeStatus(kit, actor, status);
}

/** An actor that cannot be reconciled as configured: every condition says why; nothing to retry. */
export async function reportConfigError(kit: ReconcileKit, actor: AsyncActor & KubeObject, reason: string, message: string): Promise<void> {
  const status = computeStatus({
    previous: actor.status,
    generation: actor.metadata.generation,
    now: kit.nowIso(),
    conditions: [
      { type: CONDITION.transport, status: reason === REASON.TransportNotConfigured ? 'False' : 'Unknown', reason, message },
      { type: CONDITION.workload, status: 'False', reason, message },
      { type: CONDITION.scaling, status: 'Unknown', reason, message },
    ],
    facts: { ...noPodsFacts(), configError: true },
  });
  await writeStatus(kit, actor, status);
}

export async function writeStatus(kit: ReconcileKit, actor: AsyncActor & KubeObject, status: AsyncActorStatus): Promise<void> {
  if (stableStringify(actor.status ?? {}) === stableStringify(status)) return;
  const prev = actor.status;
  await kit.client.updateStatus(KINDS.actor, { ...actor, status });
  for (const c of status.conditions ?? []) {
    const before = prev?.conditions?.find((p) => p.type === c.type);
    if (before?.status === c.status && before.reason === c.reason) continue;
    if (!before && c.status !== 'False') continue;
    if (c.status === 'Unknown') continue;
    await kit.event(actor, c.status === 'True' ? 'Normal' : 'Warning', c.status === 'True' ? c.reason : `${c.type}False`, `${c.type}: ${c.reason}: ${c.message}`);
  }
}
