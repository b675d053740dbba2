// The operator configuration file, read by both the webhook and the reconciler and rendered by the chart
// (charts/asya-operator/templates/configmap.yaml). Its `transports` and `sidecar` blocks have the shape of the
// operator's helm values in the seeds. Unknown keys are refused (see load.ts).
import { Type, type Static } from '@sinclair/typebox';
import { PULL_POLICIES, ResourceRequirementsSchema, stringEnum } from '../schema/kubernetes.js';

/** One transport entry; `type` names a registered transport (src/transports/registry.ts), whose schema checks `config` (load.ts). */
export const TransportEntrySchema = Type.Object({
  enabled: Type.Boolean({ default: true }),
  type: Type.String({ minLength: 1, description: 'The kind of broker: a registered transport type (rabbitmq, sqs).' }),
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
      concurrency: Type.Integer({ default: 10, minimum: 1, maximum: 64, description: 'Actors reconciled at once (as upstream: 10).' }),
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

/** A transport of the configuration; `config` is what its plugin's schema gave (see TransportPlugin<C>). */
export interface TransportConfig<C = any> {
  name: string;
  enabled: boolean;
  type: string;
  config: C;
}

type RawConfig = Static<typeof OperatorConfigSchema>;
export interface OperatorConfig extends Omit<RawConfig, 'transports'> {
  transports: Record<string, TransportConfig>;
}
