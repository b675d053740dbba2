// SQS, as the Kubernetes side sees it: the sidecar's env, KEDA's aws-sqs-queue scaler (with static credentials
// from a Secret or the pod's IRSA identity), SQS's queue-name rules, and the probe of `asya-webhook check`.
import { ENV, IRSA_ROLE_ANNOTATION, actorServiceAccountFor } from '../../names.js';
import { secretEnv, withProbeTimeout } from '../common.js';
import type { TransportPlugin, TransportProbeResult } from '../plugin.js';
import { SqsConfigSchema, type SqsConfig } from './config.js';

const SQS_NAME = /^[A-Za-z0-9_-]{1,80}$/;

const address = (c: SqsConfig) => c.endpoint ?? `sqs.${c.region}.amazonaws.com`;

export const sqs: TransportPlugin<SqsConfig> = {
  type: 'sqs',
  configSchema: SqsConfigSchema,

  // The AWS SDK loads with the client: the webhook never needs it (about 27 MiB of RSS).
  client: async (name, config, logger) => new (await import('./client.js')).SqsTransport(name, config, logger),

  sidecarEnv: (c) => {
    const creds = c.credentialsSecretRef;
    return [
      { name: ENV.awsRegion, value: c.region },
      ...(c.endpoint ? [{ name: ENV.sqsEndpoint, value: c.endpoint }] : []),
      ...(creds
        ? [secretEnv('AWS_ACCESS_KEY_ID', { name: creds.name, key: creds.accessKeyIdKey }), secretEnv('AWS_SECRET_ACCESS_KEY', { name: creds.name, key: creds.secretAccessKeyKey })]
        : []),
    ];
  },

  triggerNeedsQueueUrl: true,
  kedaTrigger: (c, q) => {
    const r = c.credentialsSecretRef;
    return {
      type: 'aws-sqs-queue',
      metadata: {
        queueURL: q.queueUrl ?? (c.queueBaseURL ? `${c.queueBaseURL.replace(/\/$/, '')}/${q.queue}` : q.queue),
        queueLength: String(q.queueLength),
        awsRegion: c.region,
        ...(c.endpoint ? { awsEndpoint: c.endpoint } : {}),
      },
      ...(r
        ? {
            authentication: {
              secretTargetRef: [
                { parameter: 'awsAccessKeyID', name: r.name, key: r.accessKeyIdKey },
                { parameter: 'awsSecretAccessKey', name: r.name, key: r.secretAccessKeyKey },
              ],
            },
          }
        : c.actorRoleArn
          ? // KEDA assumes the role of the workload's ServiceAccount (IRSA), the one we annotate.
            { authentication: { podIdentity: { provider: 'aws', identityOwner: 'workload' } } }
          : {}),
    };
  },

  podIdentity: (c, actorName) => (c.actorRoleArn ? { serviceAccountName: actorServiceAccountFor(actorName), annotations: { [IRSA_ROLE_ANNOTATION]: c.actorRoleArn } } : undefined),

  validateActor: (c, { actor, queue }) => {
    const errors = [];
    if (!SQS_NAME.test(queue)) errors.push({ path: 'metadata.name', message: `gives SQS queue name "${queue}", which must be 1 to 80 of [A-Za-z0-9_-]` });
    if (c.actorRoleArn && (actor.spec.workload?.template?.spec as { serviceAccountName?: unknown } | undefined)?.serviceAccountName !== undefined) {
      errors.push({
        path: 'spec.workload.template.spec.serviceAccountName',
        message: 'must not be set: SQS actors run as ServiceAccount asya-<name> with the IRSA role of the operator configuration',
      });
    }
    return errors;
  },

  address,

  async probe(_name, c, ctx): Promise<TransportProbeResult> {
    const { GetQueueUrlCommand, ListQueuesCommand, SQSClient } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient({ region: c.region, ...(c.endpoint ? { endpoint: c.endpoint } : {}), maxAttempts: 1 });
    try {
      await withProbeTimeout(client.send(new ListQueuesCommand({ MaxResults: 1 })), 'SQS ListQueues');
      const missingEndQueues: string[] = [];
      for (const queue of ctx.endQueues) {
        const found = await withProbeTimeout(client.send(new GetQueueUrlCommand({ QueueName: queue })), 'SQS GetQueueUrl').then(
          () => true,
          (err: Error) => (err.name === 'QueueDoesNotExist' || err.name === 'AWS.SimpleQueueService.NonExistentQueue' ? false : Promise.reject(err)),
        );
        if (!found) missingEndQueues.push(queue);
      }
      return { ok: true, how: 'SQS ListQueues', missingEndQueues };
    } catch (err) {
      const e = err as Error;
      // No AWS credentials where check runs (the reconciler has its own, e.g. IRSA): the endpoint answering
      // TCP is what can be checked from here.
      if (e.name === 'CredentialsProviderError' || /credential/i.test(e.message)) {
        const u = new URL(c.endpoint ?? `https://sqs.${c.region}.amazonaws.com`);
        const { tcpProbe } = await import('../../util/tcpProbe.js');
        const tcpErr = await tcpProbe(u.hostname, Number(u.port || (u.protocol === 'http:' ? 80 : 443)));
        return { ok: !tcpErr, how: 'TCP connect', ...(tcpErr ? { error: tcpErr } : {}), note: 'no AWS credentials here for ListQueues' };
      }
      return { ok: false, how: 'SQS ListQueues', error: `${e.name}: ${e.message}` };
    } finally {
      client.destroy();
    }
  },

  probeFix: (name, c) => `check the SQS endpoint ${address(c)}, the region and the credentials; or fix transports.${name}.config with helm upgrade`,
};
