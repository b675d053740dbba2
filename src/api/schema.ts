// The AsyncActor API, defined once. The CRD (src/api/crd.ts), admission validation and defaulting
// (src/api/validate.ts) and the TypeScript types all derive from these schemas.
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_PYTHON, RUNTIME_SCRIPT_PATH, SOCKET_FILE_NAME } from '../names.js';
import { EnvVarSchema, PULL_POLICIES, ResourceRequirementsSchema, int32, opaqueObject, stringEnum } from '../schema/kubernetes.js';

export { INT32_MAX, PULL_POLICIES, type EnvVar, type ResourceRequirements } from '../schema/kubernetes.js';

// ---- spec ----

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'] as const;
export const METRIC_TYPES = ['AverageValue', 'Value', 'Utilization'] as const;

export const SidecarSpecSchema = Type.Object(
  {
    image: Type.Optional(Type.String({ minLength: 1, description: 'Sidecar image. Defaults to the operator configuration (sidecar.image).' })),
    imagePullPolicy: Type.Optional(stringEnum(PULL_POLICIES, { description: 'Pull policy of the sidecar image. Defaults to the operator configuration (sidecar.imagePullPolicy).' })),
    resources: Type.Optional(ResourceRequirementsSchema),
    env: Type.Optional(Type.Array(EnvVarSchema, { description: 'Extra environment variables for the sidecar; they override the injected ones of the same name.' })),
  },
  { description: 'The asya-sidecar container injected next to asya-runtime. Every field overrides the operator default.' },
);

export const SocketSpecSchema = Type.Object(
  {
    path: Type.Optional(Type.String({
      default: `/var/run/asya/${SOCKET_FILE_NAME}`,
      pattern: '^/[^\\s]*[^/]$',
      description: `Absolute path of the Unix socket shared by sidecar and runtime; its directory is an emptyDir mounted in both. The file name must be ${SOCKET_FILE_NAME} (the sidecar and the runtime cannot use another): only the directory can be chosen, and not /, /tmp or /opt/asya.`,
    })),
    maxSize: Type.Optional(Type.String({
      pattern: '^[1-9][0-9]*$',
      description: 'Not supported: neither the sidecar nor the runtime limits the size of a message, so new actors that set it are refused (actors stored with it keep it).',
    })),
  },
  { default: {}, description: 'The Unix socket between the sidecar and the runtime.' },
);

export const TimeoutSpecSchema = Type.Object(
  {
    processing: Type.Optional(int32({
      default: 300,
      minimum: 1,
      description: 'Seconds the runtime may spend on one message before the sidecar gives up on it (at least 1: the sidecar has no "no timeout", and 0 would fail every message).',
    })),
    gracefulShutdown: Type.Optional(int32({
      default: 30,
      minimum: 0,
      description: "Seconds a pod gets to finish in-flight messages when it stops; becomes the pod's terminationGracePeriodSeconds.",
    })),
  },
  { default: {}, description: 'Timeouts of message processing and shutdown.' },
);

export const AdvancedScalingSchema = Type.Object(
  {
    formula: Type.Optional(
      Type.String({
        minLength: 1,
        description: "KEDA scalingModifiers formula over the named trigger 'queueLength', for example ceil(queueLength / 10). Requires target.",
      }),
    ),
    target: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'Target value of the composite metric the formula computes.' })),
    activationTarget: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'Value the metric must exceed to scale from 0 to 1.' })),
    metricType: Type.Optional(stringEnum(METRIC_TYPES, { description: 'How the HPA reads the metric: AverageValue (per replica), Value or Utilization.' })),
    restoreToOriginalReplicaCount: Type.Optional(
      Type.Boolean({ description: 'When the ScaledObject is deleted, put the workload back to its replica count from before scaling.' }),
    ),
  },
  { description: 'KEDA advanced scaling modifiers.' },
);

export const ScalingSpecSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Scale the workload with KEDA on queue depth. When false, workload.replicas is used.' })),
    minReplicas: Type.Optional(int32({ default: 0, minimum: 0, description: 'Fewest replicas; 0 lets the actor scale to zero (Napping) when its queue is empty.' })),
    maxReplicas: Type.Optional(int32({ default: 50, minimum: 1, description: 'Most replicas KEDA may scale to.' })),
    pollingInterval: Type.Optional(int32({ default: 10, minimum: 1, description: 'Seconds between two checks of the queue by KEDA.' })),
    cooldownPeriod: Type.Optional(int32({ default: 60, minimum: 0, description: 'Seconds to wait after the last message before scaling to minReplicas when that is 0.' })),
    queueLength: Type.Optional(int32({ default: 5, minimum: 1, description: 'Target messages per replica: replicas = ceil(queued / queueLength).' })),
    advanced: Type.Optional(AdvancedScalingSchema),
  },
  { default: {}, description: 'Autoscaling of the workload by KEDA on the depth of the actor queue.' },
);

export const PodTemplateSchema = Type.Object(
  {
    metadata: Type.Optional(opaqueObject('Labels and annotations of the pods (core/v1 ObjectMeta).')),
    spec: opaqueObject('The pod spec (core/v1 PodSpec). It must have one container named asya-runtime, which must not set command.'),
  },
  { description: 'Pod template of the workload; the sidecar, socket and runtime are injected into its pods at creation.' },
);

export const WorkloadSpecSchema = Type.Object(
  {
    kind: Type.Optional(stringEnum(WORKLOAD_KINDS, { default: 'Deployment', description: 'Deployment (stateless, the default) or StatefulSet (persistent volumes per replica).' })),
    type: Type.Optional(stringEnum(WORKLOAD_KINDS, { description: 'Deprecated spelling of kind, converted to kind at admission.' })),
    replicas: Type.Optional(int32({ default: 1, minimum: 0, description: 'Replicas when scaling is disabled; ignored when scaling.enabled is true.' })),
    pythonExecutable: Type.Optional(Type.String({
      default: DEFAULT_PYTHON,
      pattern: '^[^\\s]*$',
      description: `Python interpreter that runs the runtime script in asya-runtime: the command becomes [pythonExecutable, ${RUNTIME_SCRIPT_PATH}]. Empty means ${DEFAULT_PYTHON}.`,
    })),
    template: PodTemplateSchema,
    volumeClaimTemplates: Type.Optional(
      Type.Array(opaqueObject('A PersistentVolumeClaim template (core/v1 PersistentVolumeClaim).'), {
        description: 'Volume claims, one set per replica (StatefulSet only).',
      }),
    ),
  },
  { description: 'The workload that runs the actor.' },
);

export const AsyncActorSpecSchema = Type.Object(
  {
    transport: Type.String({
      minLength: 1,
      description: 'Name of a transport enabled in the operator configuration (for example rabbitmq or sqs). Cannot change after creation.',
    }),
    sidecar: Type.Optional(SidecarSpecSchema),
    socket: Type.Optional(SocketSpecSchema),
    timeout: Type.Optional(TimeoutSpecSchema),
    scaling: Type.Optional(ScalingSpecSchema),
    workload: WorkloadSpecSchema,
  },
  { description: 'Desired state of the actor. Its queue is named after metadata.name.' },
);

// ---- status ----

export const ConditionSchema = Type.Object(
  {
    type: Type.String({ description: 'TransportReady, WorkloadReady or ScalingReady.' }),
    status: stringEnum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' }),
    reason: Type.String({ description: 'Machine-readable reason in CamelCase.' }),
    message: Type.String({ description: 'Human-readable detail.' }),
    lastTransitionTime: Type.String({ format: 'date-time', description: 'When status last changed.' }),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: 'Generation the condition was computed for.' })),
  },
  { description: 'A condition of the actor (meta/v1 Condition).' },
);

export const DISPLAY_STATUSES = [
  'Creating',
  'Running',
  'Napping',
  'Degraded',
  'Updating',
  'Terminating',
  'TransportError',
  'WorkloadError',
  'ScalingError',
  'RuntimeError',
  'SidecarError',
  'ImagePullError',
  'PendingResources',
  'ConfigError',
] as const;

const count = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));

export const AsyncActorStatusSchema = Type.Object(
  {
    conditions: Type.Optional(
      Type.Array(ConditionSchema, { description: 'TransportReady, WorkloadReady and ScalingReady.', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
    ),
    status: Type.Optional(stringEnum(DISPLAY_STATUSES, { description: 'Overall state shown as STATUS: Running, Napping, Creating, Degraded or an error.' })),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: 'Generation of the spec the status describes.' })),
    replicas: count('Pods ready and running (RUNNING).'),
    pendingReplicas: count('Pods created but not ready yet (PENDING).'),
    failingPods: count('Pods whose containers are retrying in an error state such as CrashLoopBackOff (FAILING).'),
    totalReplicas: count('Non-terminated pods.'),
    desiredReplicas: count('Replicas KEDA wants (from its HPA) or workload.replicas when scaling is off (DESIRED).'),
    lastScaleTime: Type.Optional(Type.String({ format: 'date-time', description: 'When the replica count last changed (LAST-SCALE).' })),
    lastScaleDirection: Type.Optional(stringEnum(['up', 'down'] as const, { description: 'Direction of the last change of the replica count.' })),
    scalingMode: Type.Optional(stringEnum(['KEDA', 'Manual'] as const, { description: 'KEDA or Manual (SCALING).' })),
    transportStatus: Type.Optional(stringEnum(['Ready', 'NotReady'] as const, { description: 'Whether the queue exists on the transport (TRANSPORT).' })),
    queuedMessages: count('Messages waiting in the queue (QUEUED).'),
    processingMessages: count('Messages taken by a consumer and not yet acknowledged (PROCESSING).'),
    workloadRef: Type.Optional(
      Type.Object(
        { apiVersion: Type.String(), kind: Type.String(), name: Type.String(), namespace: Type.String() },
        { description: 'The Deployment or StatefulSet created for the actor.' },
      ),
    ),
    scaledObjectRef: Type.Optional(
      Type.Object({ name: Type.String(), namespace: Type.String() }, { description: 'The KEDA ScaledObject created for the actor.' }),
    ),
  },
  { description: 'Observed state of the actor, written by the reconciler.' },
);

export type AsyncActorSpec = Static<typeof AsyncActorSpecSchema>;
export type AsyncActorStatus = Static<typeof AsyncActorStatusSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type DisplayStatus = (typeof DISPLAY_STATUSES)[number];
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface AsyncActor {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: AsyncActorSpec;
  status?: AsyncActorStatus;
}

/** Makes the listed (defaulted) fields of T required. */
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Required<Pick<T, K>>;

/** A spec after defaulting (schema defaults applied): what the injection and the reconciler work with. */
export interface DefaultedSpec extends Omit<AsyncActorSpec, 'socket' | 'timeout' | 'scaling' | 'workload'> {
  socket: WithDefaults<NonNullable<AsyncActorSpec['socket']>, 'path'>;
  timeout: Required<NonNullable<AsyncActorSpec['timeout']>>;
  scaling: WithDefaults<NonNullable<AsyncActorSpec['scaling']>, 'enabled' | 'minReplicas' | 'maxReplicas' | 'pollingInterval' | 'cooldownPeriod' | 'queueLength'>;
  workload: WithDefaults<AsyncActorSpec['workload'], 'kind' | 'replicas' | 'pythonExecutable'>;
}
export interface DefaultedActor extends Omit<AsyncActor, 'spec'> {
  spec: DefaultedSpec;
}
