// A broker in memory for reconcile-logic tests (the real brokers are exercised in test/integration/).
import { TransportError, type QueueInfo, type QueueSpec, type QueueStats, type Transport } from '../../src/transports/types.js';

export class MemoryTransport implements Transport {
  readonly queues = new Map<string, { declared: number; depth: number }>();
  calls = 0;
  declarations = 0;
  /** When set, every call fails with it. */
  down?: TransportError;

  constructor(
    readonly name = 'rabbitmq',
    readonly type: string = 'rabbitmq',
  ) {}

  private enter(): void {
    this.calls++;
    if (this.down) throw this.down;
  }
  async ensureQueue(spec: QueueSpec): Promise<QueueInfo> {
    this.enter();
    this.declarations++;
    const q = this.queues.get(spec.name);
    this.queues.set(spec.name, { declared: (q?.declared ?? 0) + 1, depth: q?.depth ?? 0 });
    return { url: this.type === 'sqs' ? `http://sqs.local/000000000000/${spec.name}` : spec.name };
  }
  async stats(spec: QueueSpec): Promise<QueueStats | undefined> {
    this.enter();
    const q = this.queues.get(spec.name);
    return q ? { queued: q.depth, processing: 0 } : undefined;
  }
  async queueExists(spec: QueueSpec): Promise<boolean> {
    return (await this.stats(spec)) !== undefined;
  }
  async deleteQueue(spec: QueueSpec): Promise<void> {
    this.enter();
    this.queues.delete(spec.name);
  }
  async close(): Promise<void> {}
}
