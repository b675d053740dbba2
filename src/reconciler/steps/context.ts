// What the steps of one reconcile pass along: the actor as stored and as defaulted, its transport, and what
// each step found. A step takes this and returns its part: a condition, a requeue-after, facts for the status.
import type { AsyncActor, DefaultedActor } from '../../api/schema.js';
import type { TransportConfig } from '../../config/schema.js';
import type { KubeObject } from '../../kube/client.js';
import type { QueueSpec, Transport } from '../../transports/types.js';
import type { ConditionInput, PodLike } from '../status.js';

export interface ActorContext {
  /** The stored actor (with our finalizer). */
  actor: AsyncActor & KubeObject;
  /** The same with the schema's defaults. */
  defaulted: DefaultedActor;
  namespace: string;
  name: string;
  /** namespace/name */
  key: string;
  transportConfig: TransportConfig;
  /** The broker client; undefined when the transport has none (a configuration problem, said in status). */
  transport: Transport | undefined;
  queue: QueueSpec;
}

export interface QueueState {
  ready: boolean;
  reason: string;
  message: string;
  stats?: { queued: number; processing?: number };
  url?: string;
  retryAfterMs?: number;
  /** Another actor owns this queue (same name, other namespace). */
  ownedByAnother?: boolean;
}

/** The workload as it is now, and its pods. */
export interface Observed {
  workload: KubeObject | undefined;
  /** It exists and belongs to this actor. */
  ours: boolean;
  pods: Array<KubeObject & PodLike>;
  /** Its spec.replicas (1 when unset, as the API server defaults it). */
  specReplicas: number;
}

export interface StepResult {
  condition?: ConditionInput;
  requeueAfterMs?: number;
}

/** The result of a step that always says how its part is (a condition). */
export interface ConditionStep extends StepResult {
  condition: ConditionInput;
}

export function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
