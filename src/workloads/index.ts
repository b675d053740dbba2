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

/** The module of a kind that may not be one (an actor not validated yet). */
export function workloadKindOf(kind: unknown): WorkloadKindModule | undefined {
  return typeof kind === 'string' && Object.hasOwn(modules, kind) ? modules[kind as WorkloadKind] : undefined;
}

/** The kinds that take volumeClaimTemplates, for messages. */
export const CLAIM_TEMPLATE_KINDS = WORKLOAD_KINDS.filter((k) => modules[k].claimTemplates);

/** Every kind but `kind` (to remove the workload of a kind the actor no longer has). */
export function otherWorkloadKinds(kind: WorkloadKind): WorkloadKindModule[] {
  return WORKLOAD_KINDS.filter((k) => k !== kind).map((k) => modules[k]);
}
