// The values `helm install charts/asya-operator` gets on the e2e node, besides the chart's defaults: shared by
// incluster.e2e.test.ts and bench/e2e/incluster.e2e-bench.ts.
import { join } from 'node:path';

export interface InClusterValues {
  nodeIp: string;
  rabbitPort: number;
  vhost: string;
  sidecarImage: string;
  /** The upstream Asya copy (its asya_runtime.py becomes the chart's inline runtime). */
  upstreamDir: string;
  gatewayUrl?: string;
  /** moto's endpoint: the SQS transport on, credentials from Secret aws-credentials (sidecars, KEDA) and env (reconciler). */
  sqsEndpoint?: string;
}

export const runtimeScriptOf = (upstreamDir: string): string => join(upstreamDir, 'src', 'asya-runtime', 'asya_runtime.py');

/** `helm install|upgrade` arguments: the chart's defaults plus what this cluster needs. */
export function inClusterValues(v: InClusterValues): string[] {
  return [
    // cert-manager's controller does not run here: the chart generates the webhook's CA and certificate.
    '--set', 'certManager.enabled=false',
    // Brokers and the gateway on the node IP, the host address pods reach (no cluster DNS entry for them).
    '--set-string', `transports.rabbitmq.config.host=${v.nodeIp}`,
    '--set', `transports.rabbitmq.config.port=${v.rabbitPort}`,
    '--set-string', `transports.rabbitmq.config.vhost=${v.vhost}`,
    '--set-string', 'transports.rabbitmq.config.usernameSecretRef.name=rabbitmq-secret',
    '--set-string', 'transports.rabbitmq.config.usernameSecretRef.key=username',
    ...(v.gatewayUrl ? ['--set-string', `gatewayURL=${v.gatewayUrl}`] : []),
    ...(v.sqsEndpoint
      ? [
          '--set', 'transports.sqs.enabled=true',
          '--set-string', `transports.sqs.config.endpoint=${v.sqsEndpoint}`,
          '--set-string', `transports.sqs.config.queueBaseURL=${v.sqsEndpoint}/123456789012`,
          '--set-string', 'transports.sqs.config.credentialsSecretRef.name=aws-credentials',
          // The reconciler creates the queues: moto's test credentials in its env.
          '--set-string', 'reconciler.extraEnv[0].name=AWS_ACCESS_KEY_ID,reconciler.extraEnv[0].value=test',
          '--set-string', 'reconciler.extraEnv[1].name=AWS_SECRET_ACCESS_KEY,reconciler.extraEnv[1].value=test',
          '--set-string', 'reconciler.extraEnv[2].name=AWS_REGION,reconciler.extraEnv[2].value=us-east-1',
        ]
      : []),
    '--set-string', `sidecar.image=${v.sidecarImage}`,
    '--set-string', 'sidecar.defaultResources.requests.cpu=10m',
    // Upstream's runtime script, given to the chart as a user without an image of their own gives it.
    '--set', 'runtime.source=inline',
    '--set-file', `runtime.script=${runtimeScriptOf(v.upstreamDir)}`,
    // Two reconcilers: one holds the Lease.
    '--set', 'replicaCount=2',
    // `asya-webhook check` in a pod with the reconciler's ServiceAccount (templates/rbac-check.yaml).
    '--set', 'rbac.check=true',
  ];
}
