// The workload kinds an actor can run as, by spec.workload.kind.
import { WORKLOAD_KINDS, type WorkloadKind } from '../api/schema.js';
import { deployment } from './deployment.js';
import type { WorkloadKindModule } from './kind.js';
import { statefulSet } from './statefulset.js';

export type { WorkloadKindModule } from './kind.js';

const modules: Record<WorkloadKind, WorkloadKindModule> = { Deployment: deployment, StatefulSet: statefulSet };

export function workloadKind(kind: WorkloadKind): WorkloadKindModule {
  return modules[kind];
}

/** Every kind but `kind` (to remove the workload of a kind the actor no longer has). */
export function otherWorkloadKinds(kind: WorkloadKind): WorkloadKindModule[] {
  return WORKLOAD_KINDS.filter((k) => k !== kind).map((k) => modules[k]);
}
