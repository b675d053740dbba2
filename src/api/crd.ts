// Builds the AsyncActor CustomResourceDefinition from the schema in schema.ts (pure).
// `asya-webhook crd` prints it; test/unit/charts.crd.test.ts fails when manifests/crds/ differs from it.
import { toPlainSchema } from '../util/schemaChecker.js';
import { AsyncActorSpecSchema, AsyncActorStatusSchema } from './schema.js';
import { ACTOR_CRD_NAME, ACTOR_KIND, ACTOR_LIST_KIND, ACTOR_PLURAL, ACTOR_SHORT_NAMES, ACTOR_SINGULAR, API_GROUP, API_VERSION } from '../names.js';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** The columns of `kubectl get asyas` (seed 000); priority 1 = `-o wide` only. */
export const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Status', type: 'string', jsonPath: '.status.status', description: 'Overall state of the actor' },
  { name: 'Running', type: 'integer', jsonPath: '.status.replicas', description: 'Pods ready and running' },
  { name: 'Pending', type: 'integer', jsonPath: '.status.pendingReplicas', description: 'Pods created but not ready yet' },
  { name: 'Failing', type: 'integer', jsonPath: '.status.failingPods', description: 'Pods retrying in an error state' },
  { name: 'Min', type: 'integer', jsonPath: '.spec.scaling.minReplicas', description: 'Fewest replicas' },
  { name: 'Max', type: 'integer', jsonPath: '.spec.scaling.maxReplicas', description: 'Most replicas' },
  // A date column: kubectl renders the time since the last scale itself, so the column stays true without
  // the reconciler rewriting a formatted string on every resync. The direction is its own wide column.
  { name: 'Last-Scale', type: 'date', jsonPath: '.status.lastScaleTime', description: 'Time since the replica count last changed' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation' },
  { name: 'Desired', type: 'integer', jsonPath: '.status.desiredReplicas', description: 'Replicas wanted by KEDA', priority: 1 },
  { name: 'Workload', type: 'string', jsonPath: '.spec.workload.kind', description: 'Deployment or StatefulSet', priority: 1 },
  { name: 'Transport', type: 'string', jsonPath: '.status.transportStatus', description: 'Queue readiness', priority: 1 },
  { name: 'Scaling', type: 'string', jsonPath: '.status.scalingMode', description: 'KEDA or Manual', priority: 1 },
  { name: 'Queued', type: 'integer', jsonPath: '.status.queuedMessages', description: 'Messages waiting', priority: 1 },
  { name: 'Processing', type: 'integer', jsonPath: '.status.processingMessages', description: 'Messages being processed', priority: 1 },
  { name: 'Direction', type: 'string', jsonPath: '.status.lastScaleDirection', description: 'Direction of the last scale (up/down)', priority: 1 },
];

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: ACTOR_CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'asya', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: ACTOR_KIND,
        listKind: ACTOR_LIST_KIND,
        plural: ACTOR_PLURAL,
        singular: ACTOR_SINGULAR,
        shortNames: [...ACTOR_SHORT_NAMES],
        categories: ['asya'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'An actor: a Python handler in container asya-runtime, fed from its own queue by the injected asya-sidecar and scaled by KEDA.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this object.' },
                kind: { type: 'string', description: 'Kind of this object.' },
                metadata: { type: 'object' },
                spec: toPlainSchema(AsyncActorSpecSchema, false),
                status: toPlainSchema(AsyncActorStatusSchema, false),
              },
            },
          },
        },
      ],
    },
  };
}
