// What a workload kind is to the reconciler: the object it makes from an actor, what of it cannot change, how
// it is replaced, and what it refuses at admission. One module per kind (deployment.ts, statefulset.ts); a new
// kind (a Job for KEDA's ScaledJob) implements this and is added to index.ts.
import type { DefaultedActor } from '../api/schema.js';
import type { ResourceKind } from '../kube/client.js';
import type { FieldError } from '../util/schemaChecker.js';

export interface WorkloadKindModule {
  readonly kind: string;
  /** Its API resource (for the KubeClient). */
  readonly resource: ResourceKind;
  /** Spec fields of this kind besides selector, template and replicas. */
  specFields(actor: DefaultedActor): Record<string, unknown>;
  /** The fields of the spec the API server refuses to change: a change replaces the workload. */
  immutableFields(spec: Record<string, unknown>): Record<string, unknown>;
  /** Whether it takes spec.workload.volumeClaimTemplates (a volume per replica). */
  readonly claimTemplates: boolean;
  /** How the old workload is deleted when it is replaced (Orphan keeps its pods and claims for the new one). */
  readonly replacePropagation: 'Background' | 'Orphan';
  /** Rules of this kind for the actor, with field paths. */
  validate(actor: DefaultedActor): FieldError[];
}
