// StatefulSet: actors with a volume per replica (a model cache).
import { KINDS } from '../kube/client.js';
import type { WorkloadKindModule } from './kind.js';

/** Its pods get controller-revision-hash=<name>-<10-character hash>, a label value of at most 63 characters. */
const MAX_NAME = 52;

export const statefulSet: WorkloadKindModule = {
  kind: 'StatefulSet',
  resource: KINDS.statefulSet,
  specFields: (actor) => ({
    serviceName: actor.metadata.name ?? '',
    // Actors are interchangeable consumers: start and stop them together.
    podManagementPolicy: 'Parallel',
    ...(actor.spec.workload.volumeClaimTemplates?.length ? { volumeClaimTemplates: structuredClone(actor.spec.workload.volumeClaimTemplates) } : {}),
  }),
  immutableFields: (spec) => ({ serviceName: spec.serviceName, podManagementPolicy: spec.podManagementPolicy, volumeClaimTemplates: spec.volumeClaimTemplates }),
  claimTemplates: true,
  // The new StatefulSet adopts the pods and their claims: no downtime, the data kept.
  replacePropagation: 'Orphan',
  validate: (actor) => {
    const name = actor.metadata?.name;
    return typeof name === 'string' && name.length > MAX_NAME
      ? [{ path: 'metadata.name', message: `must be at most ${MAX_NAME} characters with kind StatefulSet (its pods get the label controller-revision-hash=<name>-<hash>, at most 63)` }]
      : [];
  },
};
