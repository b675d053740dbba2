// The SQS transport against moto's server on loopback.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { SqsTransport } from '../../src/transports/sqs/client.js';
import { TransportError } from '../../src/transports/types.js';
import type { SqsConfig } from '../../src/transports/sqs/config.js';
import { MotoServer } from '../support/moto.js';
import { logger, makeConfig } from '../support/fixtures.js';

let moto: MotoServer;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
beforeAll(async () => {
  moto = await MotoServer.start();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

function sqsConfig(extra: Record<string, unknown> = {}): SqsConfig {
  const t = makeConfig({ sqsEndpoint: moto.endpoint, sqs: extra }).transports.sqs!;
  if (t.type !== 'sqs') throw new Error('unexpected');
  return t.config;
}
const spec = (actor: string) => ({ name: `asya-${actor}`, actorName: actor, actorNamespace: 'team-a' });

describe('SqsTransport', () => {
  it('creates the queue with attributes, tags and a redrive policy to its DLQ; idempotent; deletes both', async () => {
    const t = new SqsTransport('sqs', sqsConfig({ visibilityTimeout: 120, deadLetter: { enabled: true, maxReceiveCount: 3 } }), logger, { credentials });
    const raw = new SQSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    try {
      const { url } = await t.ensureQueue(spec('echo'));
      expect((await t.ensureQueue(spec('echo'))).url).toBe(url);
      const attrs = (await raw.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
      expect(attrs.VisibilityTimeout).toBe('120');
      expect(attrs.MessageRetentionPeriod).toBe('345600');
      const dlqUrl = (await raw.send(new GetQueueUrlCommand({ QueueName: 'asya-echo-dlq' }))).QueueUrl!;
      const dlqArn = (await raw.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
      expect(JSON.parse(attrs.RedrivePolicy ?? '{}')).toMatchObject({ deadLetterTargetArn: dlqArn, maxReceiveCount: expect.anything() });
      expect(String(JSON.parse(attrs.RedrivePolicy ?? '{}').maxReceiveCount)).toBe('3');
      expect((await raw.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toEqual({ 'asya.sh/actor': 'echo', 'asya.sh/namespace': 'team-a' });

      await raw.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
      expect(await t.stats(spec('echo'))).toEqual({ queued: 1, processing: 0 });

      await t.deleteQueue(spec('echo'));
      expect(await t.stats(spec('echo'))).toBeUndefined();
      await expect(raw.send(new GetQueueUrlCommand({ QueueName: 'asya-echo-dlq' }))).rejects.toMatchObject({ name: expect.stringMatching(/QueueDoesNotExist|NonExistentQueue/) });
      await t.deleteQueue(spec('echo')); // already gone: fine
    } finally {
      raw.destroy();
      await t.close();
    }
  });

  it('aligns the attributes of an existing queue that differs (configuration changed)', async () => {
    const t1 = new SqsTransport('sqs', sqsConfig({ visibilityTimeout: 30 }), logger, { credentials });
    const t2 = new SqsTransport('sqs', sqsConfig({ visibilityTimeout: 90 }), logger, { credentials });
    const raw = new SQSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    try {
      const { url } = await t1.ensureQueue(spec('change'));
      await t2.ensureQueue(spec('change'));
      expect((await raw.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }))).Attributes?.VisibilityTimeout).toBe('90');
    } finally {
      raw.destroy();
      await t1.close();
      await t2.close();
    }
  });

  it('reports an unreachable endpoint as BrokerUnreachable', async () => {
    const t = new SqsTransport('sqs', { ...sqsConfig(), endpoint: 'http://127.0.0.1:1' }, logger, { credentials });
    try {
      const err = await t.ensureQueue(spec('nowhere')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).reason).toBe('BrokerUnreachable');
    } finally {
      await t.close();
    }
  });
});
