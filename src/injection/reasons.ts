// Why a pod was injected, skipped or refused: a code for metrics and logs, a sentence for users.

export const SKIP_REASONS = {
  excluded_namespace: 'namespace is excluded from injection',
  no_actor_label: 'pod has no asya.sh/actor label',
  already_injected: 'pod is already injected',
} as const;

export const DENY_REASONS = {
  no_runtime_container: 'pod has no container named "asya-runtime"',
  unknown_actor: 'no AsyncActor of that name in the namespace',
  actor_terminating: 'the AsyncActor is being deleted',
  transport_not_configured: "the actor's transport is not enabled in the operator configuration",
  runtime_command_set: 'container "asya-runtime" sets its own command',
  sidecar_conflict: 'pod already has a container named "asya-sidecar" that was not injected',
  invalid_pod: 'the pod is not a valid object',
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;
export type DenyReason = keyof typeof DENY_REASONS;
