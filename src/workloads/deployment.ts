// Deployment: stateless actors (the default).
import { KINDS } from '../kube/client.js';
import type { WorkloadKindModule } from './kind.js';

export const deployment: WorkloadKindModule = {
  kind: 'Deployment',
  resource: KINDS.deployment,
  specFields: () => ({}),
  immutableFields: () => ({}),
  replacePropagation: 'Background',
  validate: (actor) =>
    actor.spec.workload?.volumeClaimTemplates !== undefined
      ? [{ path: 'spec.workload.volumeClaimTemplates', message: 'is only allowed with kind StatefulSet (kind is Deployment)' }]
      : [],
};
