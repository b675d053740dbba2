// The operator configuration file, read by both the webhook and the reconciler and rendered by the chart
// (charts/asya-operator/templates/configmap.yaml). Its `transports` and `sidecar` blocks have the shape of the
// operator's helm values in the seeds. Unknown keys are refused (see load.ts).
import { Type, type Static, type TSchema, type SchemaOptions } from '@sinclair/typebox';
import { PULL_POLICIES, ResourceRequirementsSchema } from '../api/schema.js';
import { DEFAULT_RABBITMQ_EXCHANGE } from '../names.js';

function stringEnum<T extends string>(values: readonly T[], options: SchemaOptions = {}): TSchema & { static: T } {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

export const SecretKeyRefSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Secret name (in each actor namespace for actor pods).' }),
    key: Type.String({ minLength: 1, description: 'Key in the Secret.' }),
  },
  { description: 'Reference to one key of a Secret; the value itself never appears in configuration.' },
);

const DeadLetterSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    maxReceiveCount: Type.Integer({ default: 5, minimum: 1, description: 'SQS: receives before a message moves to the dead-letter queue.' }),
  },
  { default: {}, description: 'A dead-letter queue asya-<name>-dlq next to each actor queue.' },
);

export const RabbitmqConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ default: 5672, minimum: 1, maximum: 65535 }),
  username: Type.String({ default: 'guest', minLength: 1 }),
  passwordSecretRef: Type.Optional(SecretKeyRefSchema),
  usernameSecretRef: Type.Optional(
    Type.Unsafe<Static<typeof SecretKeyRefSchema>>({
      ...SecretKeyRefSchema,
      description:
        "The username from a Secret instead of `username`, for the sidecars and KEDA. KEDA needs username and password together: without this it reads key username of passwordSecretRef's Secret.",
    }),
  ),
  passwordFile: Type.Optional(
    Type.String({ minLength: 1, description: 'Reconciler only: file with the broker password (a mounted Secret), read at each connect. Else env ASYA_RABBITMQ_PASSWORD, else guest.' }),
  ),
  vhost: Type.String({ default: '/', description: 'Virtual host of the actor queues; the sidecars get it in ASYA_RABBITMQ_URL.' }),
  tls: Type.Boolean({ default: false, description: 'amqps: TLS to the broker (port 5671 as a rule), for the reconciler, KEDA and the sidecars.' }),
  exchange: Type.String({
    default: DEFAULT_RABBITMQ_EXCHANGE,
    minLength: 1,
    maxLength: 255,
    description:
      'Topic exchange the sidecars publish results to. The reconciler declares it and binds each queue asya-<name> with routing key <name>, the key the sidecar publishes with.',
  }),
  managementPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'HTTP management API port, for the PROCESSING count.' })),
  deadLetter: DeadLetterSchema,
});

export const SqsConfigSchema = Type.Object({
  region: Type.String({ minLength: 1 }),
  queueBaseURL: Type.String({ default: '' }),
  endpoint: Type.Optional(Type.String({ minLength: 1, description: 'Custom SQS endpoint (an emulator, a VPC endpoint).' })),
  actorRoleArn: Type.String({ default: '', description: 'IAM role for actors (IRSA): each SQS actor gets ServiceAccount asya-<name> annotated with it.' }),
  visibilityTimeout: Type.Integer({ default: 300, minimum: 0, maximum: 43200 }),
  messageRetentionPeriod: Type.Integer({ default: 345600, minimum: 60, maximum: 1209600 }),
  credentialsSecretRef: Type.Optional(
    Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        accessKeyIdKey: Type.String({ default: 'AWS_ACCESS_KEY_ID' }),
        secretAccessKeyKey: Type.String({ default: 'AWS_SECRET_ACCESS_KEY' }),
      },
      { description: 'Static credentials for KEDA and the sidecar, from a Secret in each actor namespace. Without it, pod identity (IRSA) is used.' },
    ),
  ),
  deadLetter: DeadLetterSchema,
});

export const TRANSPORT_TYPES = ['rabbitmq', 'sqs'] as const;
export type TransportType = (typeof TRANSPORT_TYPES)[number];

/** One transport entry; `config` is checked against the schema of its `type` in load.ts. */
export const TransportEntrySchema = Type.Object({
  enabled: Type.Boolean({ default: true }),
  type: stringEnum(TRANSPORT_TYPES),
  config: Type.Unsafe<Record<string, unknown>>({ type: 'object' }),
});

export const DEFAULT_SIDECAR_RESOURCES = {
  limits: { cpu: '500m', memory: '256Mi' },
  requests: { cpu: '100m', memory: '64Mi' },
};

export const OperatorConfigSchema = Type.Object({
  transports: Type.Record(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }), TransportEntrySchema, { default: {}, additionalProperties: false }),
  sidecar: Type.Object(
    {
      image: Type.String({ default: 'asya-sidecar:latest', minLength: 1 }),
      imagePullPolicy: stringEnum(PULL_POLICIES, { default: 'IfNotPresent' }),
      defaultResources: Type.Unsafe<Static<typeof ResourceRequirementsSchema>>({ ...ResourceRequirementsSchema, default: DEFAULT_SIDECAR_RESOURCES }),
      logLevel: stringEnum(['debug', 'info', 'warn', 'error'] as const, { default: 'info' }),
      /** Kubernetes 1.29+: inject as an init container with restartPolicy Always (starts first, stops last, Jobs finish). */
      native: Type.Boolean({ default: false }),
    },
    { default: {} },
  ),
  runtime: Type.Object(
    {
      scriptPath: Type.String({ default: '/etc/asya-runtime/asya_runtime.py', minLength: 1 }),
    },
    { default: {} },
  ),
  gatewayURL: Type.String({ default: '' }),
  webhook: Type.Object(
    {
      excludedNamespaces: Type.Array(Type.String(), { default: ['kube-system', 'kube-public', 'kube-node-lease'] }),
    },
    { default: {} },
  ),
  reconciler: Type.Object(
    {
      concurrency: Type.Integer({ default: 4, minimum: 1, maximum: 64 }),
      resyncPeriodSeconds: Type.Integer({ default: 36000, minimum: 30, description: 'Every actor is reconciled again this often (a safety net: changes arrive through watches).' }),
      queueCheckSeconds: Type.Integer({
        default: 60,
        minimum: 0,
        description: 'Every actor queue is checked (passively) this often; a queue deleted behind our back is declared again. 0 turns the check off.',
      }),
      deleteQueues: Type.Boolean({ default: true, description: 'Delete an actor queue when the actor is deleted; false keeps it.' }),
      queueDeletionTimeoutSeconds: Type.Integer({
        default: 600,
        minimum: 0,
        description: 'An actor being deleted whose queue cannot be deleted (broker down) loses its finalizer after this long; 0 waits forever.',
      }),
      leaderElection: Type.Object(
        {
          enabled: Type.Boolean({ default: true }),
          leaseName: Type.String({ default: 'asya-reconciler' }),
          leaseNamespace: Type.String({ default: 'asya-system' }),
          leaseDurationSeconds: Type.Integer({ default: 15, minimum: 2 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
});

export type RabbitmqConfig = Static<typeof RabbitmqConfigSchema>;
export type SqsConfig = Static<typeof SqsConfigSchema>;
export type TransportConfig =
  | { name: string; enabled: boolean; type: 'rabbitmq'; config: RabbitmqConfig }
  | { name: string; enabled: boolean; type: 'sqs'; config: SqsConfig };

type RawConfig = Static<typeof OperatorConfigSchema>;
export interface OperatorConfig extends Omit<RawConfig, 'transports'> {
  transports: Record<string, TransportConfig>;
}

export const TRANSPORT_CONFIG_SCHEMAS: Record<TransportType, TSchema> = {
  rabbitmq: RabbitmqConfigSchema,
  sqs: SqsConfigSchema,
};
