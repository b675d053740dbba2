// Deployment: stateless actors (the default).
import { KINDS } from '../kube/client.js';
import type { WorkloadKindModule } from './kind.js';

export const deployment: WorkloadKindModule = {
  kind: 'Deployment',
  resource: KINDS.deployment,
  specFields: () => ({}),
  immutableFields: () => ({}),
  claimTemplates: false,
  replacePropagation: 'Background',
  validate: () => [],
};
