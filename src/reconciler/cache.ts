// What the reconciler reads comes from the informers' stores, as controller-runtime's client does: a
// reconcile of an unchanged actor makes no API call. Writes go to the API server, and their answers are put
// in the store at once (informer.assume), so the next read sees them. A store may still be behind (an object
// written by someone else a moment ago): the write then fails with 409 and the work queue retries.
import { matchesLabels, type DeleteOptions, type KubeClient, type KubeObject, type ResourceKind } from '../kube/client.js';
import { stripManagedFields, type RunningInformer } from '../kube/informer.js';
import { INJECTION_STATUS_ANNOTATION } from '../names.js';

const kindKey = (k: ResourceKind) => `${k.apiVersion}/${k.kind}`;

export class CachedClient implements KubeClient {
  private readonly informers = new Map<string, RunningInformer>();
  /** Reads that went to the API server (no synced informer for the kind). */
  apiReads = 0;

  constructor(readonly api: KubeClient) {}

  register(kind: ResourceKind, informer: RunningInformer): void {
    this.informers.set(kindKey(kind), informer);
  }

  private store(kind: ResourceKind): RunningInformer | undefined {
    const i = this.informers.get(kindKey(kind));
    return i?.synced ? i : undefined;
  }

  /** The cached object (read-only: callers copy before changing it). */
  async get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string): Promise<T | undefined> {
    const s = this.store(kind);
    if (s) return s.get(namespace, name) as T | undefined;
    this.apiReads++;
    return this.api.get<T>(kind, namespace, name);
  }

  async list<T extends KubeObject>(kind: ResourceKind, namespace: string | undefined, opts: { labelSelector?: Record<string, string> } = {}): Promise<T[]> {
    const s = this.store(kind);
    if (!s) {
      this.apiReads++;
      return this.api.list<T>(kind, namespace, opts);
    }
    return s.list().filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matchesLabels(o, opts.labelSelector)) as T[];
  }

  async create<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const out = await this.api.create(kind, obj);
    this.informers.get(kindKey(kind))?.assume(out);
    return out;
  }

  async update<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const out = await this.api.update(kind, obj);
    this.informers.get(kindKey(kind))?.assume(out);
    return out;
  }

  async updateStatus<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const out = await this.api.updateStatus(kind, obj);
    this.informers.get(kindKey(kind))?.assume(out);
    return out;
  }

  delete(kind: ResourceKind, namespace: string, name: string, opts?: DeleteOptions): Promise<boolean> {
    return this.api.delete(kind, namespace, name, opts);
  }

  served(kind: ResourceKind): Promise<boolean> {
    return this.api.served(kind);
  }
}

// ---- what the caches keep of each object ----

/**
 * A pod as the status and the watchdog read it: identity, owner, the injection annotation, phase, conditions and
 * container states. The spec (the bulk of an injected pod: env, probes, volumes) is dropped.
 */
export function slimPod(pod: KubeObject): KubeObject {
  const m = pod.metadata;
  const status = (pod.status ?? {}) as Record<string, any>;
  const containers = (list: any[] | undefined) =>
    list?.map((c) => ({ name: c.name, ready: c.ready, restartCount: c.restartCount, state: c.state ? slimState(c.state) : undefined }));
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      deletionTimestamp: m.deletionTimestamp,
      labels: m.labels,
      ...(m.annotations?.[INJECTION_STATUS_ANNOTATION] !== undefined ? { annotations: { [INJECTION_STATUS_ANNOTATION]: m.annotations[INJECTION_STATUS_ANNOTATION] } } : {}),
      ownerReferences: m.ownerReferences,
    },
    status: {
      phase: status.phase,
      conditions: status.conditions?.map((c: any) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
      initContainerStatuses: containers(status.initContainerStatuses),
      containerStatuses: containers(status.containerStatuses),
    },
  };
}

function slimState(state: Record<string, any>): Record<string, unknown> {
  if (state.waiting) return { waiting: { reason: state.waiting.reason, message: state.waiting.message } };
  if (state.running) return { running: {} };
  if (state.terminated) return { terminated: { reason: state.terminated.reason, exitCode: state.terminated.exitCode } };
  return {};
}

/** Objects we compare with what we want: everything but managedFields (the live spec is what drift is). */
export const keepSpec = stripManagedFields;
