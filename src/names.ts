// The one place for every name the product shares with users, the sidecar and the cluster.
// Change a name here and the CRD, the webhook, the reconciler and the charts' tests follow.

export const API_GROUP = 'asya.sh';
export const API_VERSION = 'v1alpha1';
export const ACTOR_API_VERSION = `${API_GROUP}/${API_VERSION}`;
export const ACTOR_KIND = 'AsyncActor';
export const ACTOR_LIST_KIND = 'AsyncActorList';
export const ACTOR_PLURAL = 'asyncactors';
export const ACTOR_SINGULAR = 'asyncactor';
export const ACTOR_SHORT_NAMES = ['asya', 'asyas'] as const;
export const ACTOR_CRD_NAME = `${ACTOR_PLURAL}.${API_GROUP}`;

/** Label on a pod (and its workload) naming the AsyncActor it belongs to; the pod webhook matches on it. */
export const ACTOR_LABEL = 'asya.sh/actor';
/** Annotation on an injected pod recording what was injected (JSON); its presence makes injection a no-op. */
export const INJECTION_STATUS_ANNOTATION = 'asya.sh/injection-status';
export const FINALIZER = 'asya.sh/finalizer';

export const RUNTIME_CONTAINER = 'asya-runtime';
export const SIDECAR_CONTAINER = 'asya-sidecar';

export const SOCKET_VOLUME = 'socket-dir';
export const TMP_VOLUME = 'tmp';
export const TMP_MOUNT_PATH = '/tmp';
export const RUNTIME_VOLUME = 'asya-runtime';
/** ConfigMap holding the runtime script, created by the reconciler in every actor namespace. */
export const RUNTIME_CONFIGMAP = 'asya-runtime';
export const RUNTIME_SCRIPT_KEY = 'asya_runtime.py';
export const RUNTIME_SCRIPT_PATH = '/opt/asya/asya_runtime.py';
/** File the runtime creates next to its socket once it can take messages (probed by the injected probes). */
export const RUNTIME_READY_FILE = 'runtime-ready';
/**
 * File name of the Unix socket: upstream's sidecar and runtime both use `$ASYA_SOCKET_DIR/asya-runtime.sock` and
 * neither can be told another name, so only the directory of spec.socket.path is the user's choice.
 */
export const SOCKET_FILE_NAME = 'asya-runtime.sock';
/** Interpreter of the runtime script when spec.workload.pythonExecutable is unset or empty (as upstream). */
export const DEFAULT_PYTHON = 'python3';

/** The command of asya-runtime: the interpreter running the runtime script from the ConfigMap. */
export function runtimeCommandFor(pythonExecutable: string | undefined): string[] {
  return [pythonExecutable || DEFAULT_PYTHON, RUNTIME_SCRIPT_PATH];
}

export const RESERVED_VOLUMES = [SOCKET_VOLUME, TMP_VOLUME, RUNTIME_VOLUME] as const;

/** Queue for an actor: upstream's sidecar derives the same name from the actor name alone, so no namespace. */
export function queueNameFor(actorName: string): string {
  return `asya-${actorName}`;
}

/**
 * RabbitMQ routing key of an actor: the sidecar publishes to the exchange with the target queue's name minus
 * `asya-`, i.e. the actor name. A queue bound with any other key (upstream's operator binds `asya-<name>`)
 * receives nothing: the publish succeeds and the broker drops the message.
 */
export function routingKeyFor(actorName: string): string {
  return actorName;
}

/** Topic exchange the sidecars publish to when the configuration names none (the sidecar's own default). */
export const DEFAULT_RABBITMQ_EXCHANGE = 'asya';

/** KEDA names the HPA it creates after the ScaledObject. */
export function kedaHpaNameFor(actorName: string): string {
  return `keda-hpa-${actorName}`;
}

export function triggerAuthNameFor(actorName: string): string {
  return `${actorName}-trigger-auth`;
}

/** ServiceAccount created for SQS actors when IRSA (actorRoleArn) is configured. */
export function actorServiceAccountFor(actorName: string): string {
  return `asya-${actorName}`;
}

export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** The end actors of every flow; the sidecar treats them specially. */
export const HAPPY_END_ACTOR = 'happy-end';
export const ERROR_END_ACTOR = 'error-end';
export const END_ACTORS: readonly string[] = [HAPPY_END_ACTOR, ERROR_END_ACTOR];
/**
 * Queues of the end actors: every sidecar checks that its target queue exists before publishing and, when it
 * does not, requeues the message at once, without end. So the reconciler keeps these on every enabled
 * transport whether or not end actors are deployed, and never deletes them.
 */
export const END_QUEUES: readonly string[] = END_ACTORS.map(queueNameFor);

/** Environment variables the injection owns; users may not set them on asya-runtime. */
export const ENV = {
  logLevel: 'ASYA_LOG_LEVEL',
  socketDir: 'ASYA_SOCKET_DIR',
  socketPath: 'ASYA_SOCKET_PATH',
  actorName: 'ASYA_ACTOR_NAME',
  namespace: 'ASYA_NAMESPACE',
  transport: 'ASYA_TRANSPORT',
  queueName: 'ASYA_QUEUE_NAME',
  runtimeTimeout: 'ASYA_RUNTIME_TIMEOUT',
  gatewayUrl: 'ASYA_GATEWAY_URL',
  happyEnd: 'ASYA_ACTOR_HAPPY_END',
  errorEnd: 'ASYA_ACTOR_ERROR_END',
  isEndActor: 'ASYA_IS_END_ACTOR',
  enableValidation: 'ASYA_ENABLE_VALIDATION',
  rabbitmqHost: 'ASYA_RABBITMQ_HOST',
  rabbitmqPort: 'ASYA_RABBITMQ_PORT',
  rabbitmqUsername: 'ASYA_RABBITMQ_USERNAME',
  rabbitmqPassword: 'ASYA_RABBITMQ_PASSWORD',
  rabbitmqUrl: 'ASYA_RABBITMQ_URL',
  rabbitmqExchange: 'ASYA_RABBITMQ_EXCHANGE',
  awsRegion: 'ASYA_AWS_REGION',
  sqsEndpoint: 'ASYA_SQS_ENDPOINT',
} as const;

/**
 * Env names the injection sets on asya-runtime: setting them in the template would be silently overridden.
 * ASYA_ENABLE_VALIDATION is not among them: it is injected on the end actors only, and upstream's own examples
 * set it on ordinary actors.
 */
export const RESERVED_RUNTIME_ENV: readonly string[] = [ENV.socketDir, ENV.socketPath];

// ---- reconciler ----

/** Dead-letter queue of an actor queue (both transports). */
export function deadLetterQueueNameFor(actorName: string): string {
  return `${queueNameFor(actorName)}-dlq`;
}

/** SQS tag and label naming the namespace of the actor that owns a queue. */
export const ACTOR_NAMESPACE_TAG = 'asya.sh/namespace';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'asya-reconciler';
/** Field manager and Event source of the reconciler. */
export const RECONCILER_COMPONENT = 'asya-reconciler';
/** Hash of the desired spec we last wrote; equal hash = nothing to write (API defaulting never causes an update). */
export const SPEC_HASH_ANNOTATION = 'asya.sh/spec-hash';
/** Hash of the immutable part of a workload (selector, StatefulSet claim templates...); a change means recreate. */
export const IMMUTABLE_HASH_ANNOTATION = 'asya.sh/immutable-hash';
/**
 * Set to "true" on an AsyncActor to delete it without deleting its queue: the way out when the broker is gone
 * for good (the reconciler also gives up after reconciler.queueDeletionTimeoutSeconds).
 */
export const SKIP_QUEUE_DELETION_ANNOTATION = 'asya.sh/skip-queue-deletion';
/** Name of the lease-holder identity env (the pod name in the chart). */
export const POD_NAME_ENV = 'POD_NAME';

export const KEDA_API_VERSION = 'keda.sh/v1alpha1';
/** Trigger name that scaling.advanced.formula refers to. */
export const KEDA_TRIGGER_NAME = 'queueLength';

/** Names of the webhooks in the chart's webhook configurations (templates/webhook-configurations.yaml). */
export const ACTOR_VALIDATING_WEBHOOK_NAME = 'validate.asyncactors.asya.sh';
export const ACTOR_MUTATING_WEBHOOK_NAME = 'mutate.asyncactors.asya.sh';
/** The pod-injection webhook (the reconciler looks for it before recycling pods admitted without the sidecar). */
export const POD_WEBHOOK_NAME = 'inject.pods.asya.sh';
