// The `config` block of an SQS transport in the operator configuration.
import { Type, type Static } from '@sinclair/typebox';
import { DeadLetterSchema } from '../schema.js';

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

export type SqsConfig = Static<typeof SqsConfigSchema>;
