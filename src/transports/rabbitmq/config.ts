// The `config` block of a RabbitMQ transport in the operator configuration.
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_RABBITMQ_EXCHANGE } from '../../names.js';
import { DeadLetterSchema, SecretKeyRefSchema } from '../schema.js';

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

export type RabbitmqConfig = Static<typeof RabbitmqConfigSchema>;
