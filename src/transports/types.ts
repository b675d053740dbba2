// What the reconciler needs from a message broker. amqplib and the SQS client stay behind this interface.

/** Everything that decides how a queue is declared; equal specs = nothing to re-declare. */
export interface QueueSpec {
  /** Queue name (asya-<actor>). */
  name: string;
  actorName: string;
  actorNamespace: string;
}

export interface QueueInfo {
  /** SQS queue URL; for RabbitMQ the queue name. */
  url: string;
}

export interface QueueStats {
  /** Messages waiting (RabbitMQ ready, SQS visible). */
  queued: number;
  /** Messages delivered and not yet acknowledged; undefined when the broker cannot tell cheaply. */
  processing?: number;
}

/** Broker-side failure classified for conditions and retry. */
export type TransportErrorReason =
  | 'BrokerUnreachable'
  | 'AuthenticationFailed'
  | 'AccessDenied'
  | 'QueueArgumentsMismatch'
  | 'QueueDeletedRecently'
  | 'BrokerError';

export class TransportError extends Error {
  constructor(
    readonly reason: TransportErrorReason,
    message: string,
    /** Known wait before a retry can succeed (SQS re-creation cooldown), instead of backoff. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  readonly name: string;
  readonly type: string;
  /** Declares the queue (and its dead-letter queue, bindings, attributes, tags). Idempotent. */
  ensureQueue(spec: QueueSpec): Promise<QueueInfo>;
  /** Cheap existence check (no declaration). */
  queueExists(spec: QueueSpec): Promise<boolean>;
  /** Depth of the queue, or undefined when it does not exist; doubles as the cheap existence check. */
  stats(spec: QueueSpec): Promise<QueueStats | undefined>;
  /** Deletes the queue and its dead-letter queue; a missing queue is not an error. */
  deleteQueue(spec: QueueSpec): Promise<void>;
  /** Broker calls made so far (for the benchmark and metrics). */
  readonly calls: number;
  close(): Promise<void>;
}

export function isTransportError(err: unknown): err is TransportError {
  return err instanceof TransportError;
}
