// SQS transport (@aws-sdk/client-sqs). CreateQueue is idempotent for equal attributes; a queue deleted less
// than 60 s ago cannot be re-created (QueueDeletedRecently): that is reported with a retry-after so the work
// queue comes back later, never slept out here.
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
  SetQueueAttributesCommand,
  TagQueueCommand,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import type { SqsConfig } from './config.js';
import { ACTOR_LABEL, ACTOR_NAMESPACE_TAG, deadLetterQueueNameFor } from '../../names.js';
import type { Logger } from '../../observability/logger.js';
import { TransportError, type QueueInfo, type QueueSpec, type QueueStats, type Transport } from '../types.js';

export const SQS_RECREATE_COOLDOWN_MS = 60_000;
/** Dead letters are kept as long as SQS allows. */
const DLQ_RETENTION_SECONDS = '1209600';

interface AwsError extends Error {
  name: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const isMissing = (err: unknown) => /QueueDoesNotExist|NonExistentQueue/.test((err as AwsError)?.name ?? '');

export function classifySqsError(err: unknown, where: string): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as AwsError;
  const name = e?.name ?? 'Error';
  const msg = `${where}: ${name}: ${e?.message ?? String(err)}`;
  if (name === 'QueueDeletedRecently') return new TransportError('QueueDeletedRecently', `${msg} (SQS refuses to re-create a queue for 60 s after its deletion)`, SQS_RECREATE_COOLDOWN_MS);
  if (/InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|InvalidSecurity|MissingAuthenticationToken|CredentialsProviderError|ExpiredToken/.test(name)) {
    return new TransportError('AuthenticationFailed', msg);
  }
  if (/AccessDenied|NotAuthorized/.test(name)) return new TransportError('AccessDenied', msg);
  if (/QueueNameExists|InvalidAttributeValue|InvalidAttributeName/.test(name)) return new TransportError('QueueArgumentsMismatch', msg);
  const code = e?.code ?? '';
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN/.test(`${code} ${e?.message ?? ''}`) || name === 'TimeoutError') {
    return new TransportError('BrokerUnreachable', msg);
  }
  return new TransportError('BrokerError', msg);
}

export class SqsTransport implements Transport {
  readonly type = 'sqs' as const;
  private readonly client: SQSClient;
  private readonly urls = new Map<string, string>();
  calls = 0;

  constructor(
    readonly name: string,
    private readonly config: SqsConfig,
    private readonly logger: Logger,
    clientConfig: Partial<SQSClientConfig> = {},
  ) {
    this.client = new SQSClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      // The work queue retries with backoff; the SDK's own retries would only hide an outage longer.
      maxAttempts: 2,
      ...clientConfig,
    });
  }

  private async send<T>(where: string, fn: () => Promise<T>): Promise<T> {
    this.calls++;
    try {
      return await fn();
    } catch (err) {
      if (isMissing(err)) throw err;
      throw classifySqsError(err, where);
    }
  }

  private tags(spec: QueueSpec): Record<string, string> {
    return { [ACTOR_LABEL]: spec.actorName, [ACTOR_NAMESPACE_TAG]: spec.actorNamespace };
  }

  /** CreateQueue, or align the attributes of an existing queue that differs (QueueNameExists). */
  private async createOrUpdate(name: string, attributes: Record<string, string>, tags: Record<string, string>): Promise<string> {
    try {
      const out = await this.send(`create queue ${name}`, () => this.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags })));
      if (!out.QueueUrl) throw new TransportError('BrokerError', `create queue ${name}: no QueueUrl in the reply`);
      this.urls.set(name, out.QueueUrl);
      return out.QueueUrl;
    } catch (err) {
      if (!(err instanceof TransportError) || err.reason !== 'QueueArgumentsMismatch' || !/QueueNameExists/.test(err.message)) throw err;
      const url = await this.url(name);
      if (!url) throw err;
      this.logger.info('sqs queue attributes differ, updating them', { transport: this.name, queue: name });
      await this.send(`set attributes of ${name}`, () => this.client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes })));
      await this.send(`tag ${name}`, () => this.client.send(new TagQueueCommand({ QueueUrl: url, Tags: tags })));
      return url;
    }
  }

  private async url(name: string): Promise<string | undefined> {
    const cached = this.urls.get(name);
    if (cached) return cached;
    try {
      const out = await this.send(`get url of ${name}`, () => this.client.send(new GetQueueUrlCommand({ QueueName: name })));
      if (out.QueueUrl) this.urls.set(name, out.QueueUrl);
      return out.QueueUrl;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async ensureQueue(spec: QueueSpec): Promise<QueueInfo> {
    const c = this.config;
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(c.visibilityTimeout),
      MessageRetentionPeriod: String(c.messageRetentionPeriod),
    };
    if (c.deadLetter.enabled) {
      const dlqName = deadLetterQueueNameFor(spec.actorName);
      const dlqUrl = await this.createOrUpdate(dlqName, { MessageRetentionPeriod: DLQ_RETENTION_SECONDS }, this.tags(spec));
      const out = await this.send(`get arn of ${dlqName}`, () =>
        this.client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })),
      );
      const arn = out.Attributes?.QueueArn;
      if (!arn) throw new TransportError('BrokerError', `no QueueArn for ${dlqName}`);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: String(c.deadLetter.maxReceiveCount) });
    }
    return { url: await this.createOrUpdate(spec.name, attributes, this.tags(spec)) };
  }

  async stats(spec: QueueSpec): Promise<QueueStats | undefined> {
    const url = await this.url(spec.name);
    if (!url) return undefined;
    try {
      const out = await this.send(`get attributes of ${spec.name}`, () =>
        this.client.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
        ),
      );
      return {
        queued: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        processing: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch (err) {
      if (!isMissing(err)) throw err;
      this.urls.delete(spec.name);
      return undefined;
    }
  }

  async queueExists(spec: QueueSpec): Promise<boolean> {
    return (await this.stats(spec)) !== undefined;
  }

  /** The URL of an existing queue (for KEDA's aws-sqs-queue trigger). */
  async queueUrl(spec: QueueSpec): Promise<string | undefined> {
    return this.url(spec.name);
  }

  async deleteQueue(spec: QueueSpec): Promise<void> {
    const names = [spec.name, ...(this.config.deadLetter.enabled ? [deadLetterQueueNameFor(spec.actorName)] : [])];
    for (const name of names) {
      this.urls.delete(name);
      const url = await this.url(name);
      this.urls.delete(name);
      if (!url) continue;
      try {
        await this.send(`delete queue ${name}`, () => this.client.send(new DeleteQueueCommand({ QueueUrl: url })));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
