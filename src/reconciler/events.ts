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
