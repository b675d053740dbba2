// Configuration pieces shared by the transports' own schemas (src/transports/<type>/config.ts).
import { Type } from '@sinclair/typebox';

export const SecretKeyRefSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Secret name (in each actor namespace for actor pods).' }),
    key: Type.String({ minLength: 1, description: 'Key in the Secret.' }),
  },
  { description: 'Reference to one key of a Secret; the value itself never appears in configuration.' },
);

export const DeadLetterSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    maxReceiveCount: Type.Integer({ default: 5, minimum: 1, description: 'SQS: receives before a message moves to the dead-letter queue.' }),
  },
  { default: {}, description: 'A dead-letter queue asya-<name>-dlq next to each actor queue.' },
);
