// Status of an actor as pure functions: pod counting (seed 000 "Status Monitoring"), conditions with honest
// lastTransitionTime, and the display STATUS (seed 003 "Pod Status Issues"). No I/O, no clock: `now` is given.
import type { AsyncActorStatus, Condition, DisplayStatus } from '../api/schema.js';
import { SIDECAR_CONTAINER } from '../names.js';

/** Waiting reasons of a container that Kubernetes keeps retrying with backoff (seed 000: FAILING). */
export const FAILING_REASONS = [
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
  'InvalidImageName',
] as const;
export type FailingReason = (typeof FAILING_REASONS)[number];
const IMAGE_REASONS: ReadonlySet<string> = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']);

export interface ContainerStatusLike {
  name?: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; running?: unknown; terminated?: unknown };
}

export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
    initContainerStatuses?: ContainerStatusLike[];
    containerStatuses?: ContainerStatusLike[];
  };
}

export interface PodFailure {
  pod: string;
  container: string;
  init: boolean;
  reason: FailingReason;
  message?: string;
}

export interface PodCounts {
  running: number;
  pending: number;
  failing: number;
  /** Pods not terminated (Failed/Succeeded) and not being deleted. */
  total: number;
  failures: PodFailure[];
  /** Pods the scheduler cannot place (PodScheduled=False, Unschedulable). */
  unschedulable: number;
}

/** The first failing container of a pod, init containers first (they run first). */
export function podFailure(pod: PodLike): PodFailure | undefined {
  const check = (list: ContainerStatusLike[] | undefined, init: boolean): PodFailure | undefined => {
    for (const c of list ?? []) {
      const reason = c.state?.waiting?.reason;
      if (reason && (FAILING_REASONS as readonly string[]).includes(reason)) {
        return { pod: pod.metadata?.name ?? '', container: c.name ?? '', init, reason: reason as FailingReason, ...(c.state?.waiting?.message ? { message: c.state.waiting.message } : {}) };
      }
    }
    return undefined;
  };
  return check(pod.status?.initContainerStatuses, true) ?? check(pod.status?.containerStatuses, false);
}

export function countPods(pods: readonly PodLike[]): PodCounts {
  const counts: PodCounts = { running: 0, pending: 0, failing: 0, total: 0, failures: [], unschedulable: 0 };
  for (const pod of pods) {
    const phase = pod.status?.phase;
    // Failed pods stopped retrying (seed 000: not FAILING); Succeeded ones are done; deleted ones are leaving.
    if (phase === 'Failed' || phase === 'Succeeded' || pod.metadata?.deletionTimestamp) continue;
    counts.total++;
    const failure = podFailure(pod);
    if (failure) {
      counts.failing++;
      counts.failures.push(failure);
      continue;
    }
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (phase === 'Running' && ready) counts.running++;
    else {
      counts.pending++;
      if (pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')) counts.unschedulable++;
    }
  }
  return counts;
}

// ---- conditions ----

export const CONDITION = { transport: 'TransportReady', workload: 'WorkloadReady', scaling: 'ScalingReady' } as const;

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** New conditions; lastTransitionTime moves only when a condition's status flips. */
export function mergeConditions(previous: readonly Condition[] | undefined, next: readonly ConditionInput[], now: string, generation: number | undefined): Condition[] {
  return next.map((c) => {
    const prev = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : now;
    return { ...c, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  });
}

// ---- display status ----

export interface StatusFacts {
  deleting: boolean;
  /** Transport not configured or disabled (a configuration problem, not the broker's). */
  configError: boolean;
  transportReady: boolean;
  workloadError: boolean;
  /** The workload exists. */
  workloadExists: boolean;
  /** The rollout of a spec change is still going on (observedGeneration or updated replicas behind). */
  rollingOut: boolean;
  /** Replicas the workload asks for (its spec.replicas). */
  specReplicas: number;
  scalingEnabled: boolean;
  scalingReady: boolean;
  pods: PodCounts;
}

/** STATUS of `kubectl get asyas`, most urgent first. */
export function displayStatus(f: StatusFacts): DisplayStatus {
  if (f.deleting) return 'Terminating';
  if (f.configError) return 'ConfigError';
  if (!f.transportReady) return 'TransportError';
  if (f.workloadError) return 'WorkloadError';
  const p = f.pods;
  if (p.failing > 0) {
    // Some pods serve while others fail: the actor works at reduced capacity.
    if (p.running > 0) return 'Degraded';
    if (p.failures.some((x) => IMAGE_REASONS.has(x.reason))) return 'ImagePullError';
    if (p.failures.every((x) => x.container === SIDECAR_CONTAINER)) return 'SidecarError';
    return 'RuntimeError';
  }
  if (f.scalingEnabled && !f.scalingReady) return 'ScalingError';
  if (!f.workloadExists) return 'Creating';
  if (p.unschedulable > 0 && p.running === 0) return 'PendingResources';
  if (f.specReplicas === 0 && p.total === 0) return 'Napping';
  if (f.rollingOut && p.running > 0) return 'Updating';
  if (p.running === 0) return 'Creating';
  if (p.running < f.specReplicas && p.pending === 0) return 'Degraded';
  return 'Running';
}

// ---- the whole status ----

export interface StatusInput {
  previous: AsyncActorStatus | undefined;
  generation: number | undefined;
  now: string;
  conditions: ConditionInput[];
  facts: StatusFacts;
  desiredReplicas?: number;
  queue?: { queued: number; processing?: number };
  workloadRef?: AsyncActorStatus['workloadRef'];
  scaledObjectRef?: AsyncActorStatus['scaledObjectRef'];
}

export function computeStatus(input: StatusInput): AsyncActorStatus {
  const prev = input.previous ?? {};
  const f = input.facts;
  const status: AsyncActorStatus = {
    conditions: mergeConditions(prev.conditions, input.conditions, input.now, input.generation),
    status: displayStatus(f),
    replicas: f.pods.running,
    pendingReplicas: f.pods.pending,
    failingPods: f.pods.failing,
    totalReplicas: f.pods.total,
    scalingMode: f.scalingEnabled ? 'KEDA' : 'Manual',
    transportStatus: f.transportReady ? 'Ready' : 'NotReady',
  };
  if (input.generation !== undefined) status.observedGeneration = input.generation;
  if (input.desiredReplicas !== undefined) status.desiredReplicas = input.desiredReplicas;
  // Keep the last known depth while the broker cannot be asked, rather than flapping to nothing.
  const queue = input.queue ?? (prev.queuedMessages !== undefined ? { queued: prev.queuedMessages, processing: prev.processingMessages } : undefined);
  if (queue) {
    status.queuedMessages = queue.queued;
    if (queue.processing !== undefined) status.processingMessages = queue.processing;
  }
  if (input.workloadRef) status.workloadRef = input.workloadRef;
  if (input.scaledObjectRef) status.scaledObjectRef = input.scaledObjectRef;
  // LAST-SCALE: a date column; it moves only when the desired count changes.
  if (prev.lastScaleTime) status.lastScaleTime = prev.lastScaleTime;
  if (prev.lastScaleDirection) status.lastScaleDirection = prev.lastScaleDirection;
  if (input.desiredReplicas !== undefined && prev.desiredReplicas !== undefined && input.desiredReplicas !== prev.desiredReplicas) {
    status.lastScaleTime = input.now;
    status.lastScaleDirection = input.desiredReplicas > prev.desiredReplicas ? 'up' : 'down';
  }
  return status;
}

/** A one-line description of the pod failures for the WorkloadReady message and Events. */
export function describeFailures(failures: readonly PodFailure[]): string {
  if (failures.length === 0) return '';
  const first = failures[0]!;
  const where = `${first.init ? 'init container' : 'container'} ${first.container} of pod ${first.pod}`;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more failing pod${failures.length > 2 ? 's' : ''})` : '';
  return `${where}: ${first.reason}${first.message ? `: ${first.message}` : ''}${more}`;
}
