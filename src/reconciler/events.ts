// Kubernetes Events on the actor, for the transitions a user needs to see in `kubectl describe asya`.
// Called only on transitions, so an idle resync writes none. A failed Event never fails a reconcile.
import type { KubeClient, KubeObject } from '../kube/client.js';
import { KINDS } from '../kube/client.js';
import { RECONCILER_COMPONENT } from '../names.js';
import type { Logger } from '../observability/logger.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(actor: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, type: EventType, reason: string, message: string): Promise<void>;
}

export class KubeEventRecorder implements EventSink {
  private seq = 0;
  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly instance = process.env.POD_NAME ?? 'local',
  ) {}

  async record(actor: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.clock().toISOString();
    const m = actor.metadata;
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${m.name}.${Date.now().toString(16)}${(this.seq++ % 4096).toString(16)}`, namespace: m.namespace },
      involvedObject: { apiVersion: actor.apiVersion, kind: actor.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: RECONCILER_COMPONENT },
      reportingComponent: RECONCILER_COMPONENT,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.client.create(KINDS.event, event);
    } catch (err) {
      this.logger.debug('event not recorded', { actor: `${m.namespace}/${m.name}`, reason, error: (err as Error).message });
    }
  }
}

/**
 * Events written beside the reconciles instead of inside them: record() returns at once and a few writers send
 * them in order. A reconcile no longer waits for its Events (they were most of the time of a converging actor's
 * writes, measured by `npm run bench:e2e -- upstream`). Bounded: past `max` waiting, the oldest are dropped
 * (Events are best effort in Kubernetes too) and counted.
 */
export class BackgroundEventSink implements EventSink {
  private readonly waiting: Array<() => Promise<void>> = [];
  private writers = 0;
  dropped = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly inner: EventSink,
    private readonly opts: { writers?: number; max?: number } = {},
  ) {}

  record(actor: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, type: EventType, reason: string, message: string): Promise<void> {
    // A snapshot of the reference: the actor object may change after this returns.
    const ref = { apiVersion: actor.apiVersion, kind: actor.kind, metadata: { ...actor.metadata } };
    this.waiting.push(() => this.inner.record(ref, type, reason, message));
    if (this.waiting.length > (this.opts.max ?? 1000)) {
      this.waiting.shift();
      this.dropped++;
    }
    this.pump();
    return Promise.resolve();
  }

  private pump(): void {
    while (this.writers < (this.opts.writers ?? 4) && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.writers++;
      void next()
        .catch(() => undefined)
        .finally(() => {
          this.writers--;
          this.pump();
          if (this.writers === 0 && this.waiting.length === 0) for (const r of this.idle.splice(0)) r();
        });
    }
  }

  /** Resolves once every recorded Event was sent (shutdown, tests). */
  flush(): Promise<void> {
    if (this.writers === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
