// The reasons the reconciler gives, in conditions and in Events: machine-readable CamelCase that users grep
// for and alert on, so each is spelled once. (Transport failures carry the TransportErrorReason of the broker
// client; Kubernetes' own reasons, CrashLoopBackOff and the like, come from the pods.)

/** Reasons of the TransportReady, WorkloadReady and ScalingReady conditions. */
export const REASON = {
  // TransportReady
  QueueReady: 'QueueReady',
  QueueOwnedByAnotherActor: 'QueueOwnedByAnotherActor',
  TransportNotConfigured: 'TransportNotConfigured',
  InvalidSpec: 'InvalidSpec',
  // WorkloadReady
  WaitingForQueue: 'WaitingForQueue',
  WorkloadReady: 'WorkloadReady',
  ScaledToZero: 'ScaledToZero',
  PodsFailing: 'PodsFailing',
  FailedCreate: 'FailedCreate',
  WorkloadConflict: 'WorkloadConflict',
  WorkloadRecreating: 'WorkloadRecreating',
  WorkloadFailed: 'WorkloadFailed',
  // ScalingReady
  ScalingDisabled: 'ScalingDisabled',
  KEDANotInstalled: 'KEDANotInstalled',
  WaitingForWorkload: 'WaitingForWorkload',
  ScaledObjectApplied: 'ScaledObjectApplied',
  ScaledObjectReady: 'ScaledObjectReady',
  ScaledObjectNotReady: 'ScaledObjectNotReady',
  ScaledObjectFailed: 'ScaledObjectFailed',
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];

/** Reasons of the Events the reconciler records on an actor (besides condition transitions). */
export const EVENT = {
  WorkloadCreated: 'WorkloadCreated',
  WorkloadRecreated: 'WorkloadRecreated',
  WorkloadKindChanged: 'WorkloadKindChanged',
  ScaledObjectApplied: 'ScaledObjectApplied',
  ScaledObjectDeleted: 'ScaledObjectDeleted',
  DriftRepaired: 'DriftRepaired',
  QueueRecreated: 'QueueRecreated',
  QueueDeleted: 'QueueDeleted',
  QueueKept: 'QueueKept',
  QueueDeletionFailed: 'QueueDeletionFailed',
  QueueDeletionAbandoned: 'QueueDeletionAbandoned',
  QueueOwnedByAnotherActor: 'QueueOwnedByAnotherActor',
  RuntimeScriptMissing: 'RuntimeScriptMissing',
  PodRecycled: 'PodRecycled',
} as const;
export type EventReason = (typeof EVENT)[keyof typeof EVENT];
