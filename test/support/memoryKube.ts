// In-memory KubeClient for tests and benchmarks. Not a fake HTTP server: it keeps the API server's rules
// that a reconciler can get wrong: resourceVersion compare-and-swap (409), the status subresource (spec
// writes leave status alone and the reverse; generation bumps only on spec changes), finalizers
// (delete only marks; the object goes when the last finalizer does), owner references (dependents are
// garbage-collected with their owner, or orphaned), immutable fields (422), AlreadyExists, the few defaults
// that make naive diffing loop (Deployment replicas, pod template restartPolicy...), and kinds that are not
// served (the KEDA CRDs missing). Every call is counted by verb.
import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { KubeApiError, matchesLabels, type DeleteOptions, type KubeClient, type KubeObject, type ResourceKind } from '../../src/kube/client.js';

export type Verb = 'get' | 'list' | 'create' | 'update' | 'updateStatus' | 'delete';
export const WRITE_VERBS: readonly Verb[] = ['create', 'update', 'updateStatus', 'delete'];

export interface CallRecord {
  verb: Verb;
  kind: string;
  namespace: string;
  name: string;
}

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; kind: ResourceKind; object: KubeObject };

/** Return an error to make the call fail before it touches the store. */
export type FaultHook = (call: CallRecord) => KubeApiError | undefined;

const kindKey = (k: ResourceKind) => `${k.apiVersion}/${k.kind}`;
const objKey = (ns: string, name: string) => `${ns}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

/** StatefulSet spec fields the API server lets an update change (apps/v1 validation). */
const STATEFULSET_MUTABLE = new Set(['replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'ordinals']);

export class MemoryKubeClient implements KubeClient {
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly kinds = new Map<string, ResourceKind>();
  private readonly unserved = new Set<string>();
  private rv = 1000;
  readonly calls: CallRecord[] = [];
  private listeners: Array<(e: WatchEvent) => void> = [];
  faults: FaultHook[] = [];

  // ---- test controls ----

  /** Makes a kind unknown to the API server (404 on every call, served() false). */
  unserve(kind: ResourceKind): void {
    this.unserved.add(kindKey(kind));
  }
  serve(kind: ResourceKind): void {
    this.unserved.delete(kindKey(kind));
  }
  watch(listener: (e: WatchEvent) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  /** Fails the next `times` calls matching verb (and kind) with the given error. */
  failNext(match: { verb: Verb; kind?: ResourceKind; times?: number }, error: () => KubeApiError): void {
    let left = match.times ?? 1;
    const hook: FaultHook = (c) => {
      if (left <= 0 || c.verb !== match.verb || (match.kind && c.kind !== match.kind.kind)) return undefined;
      left--;
      if (left === 0) this.faults = this.faults.filter((f) => f !== hook);
      return error();
    };
    this.faults.push(hook);
  }
  writes(): CallRecord[] {
    return this.calls.filter((c) => WRITE_VERBS.includes(c.verb));
  }
  resetCalls(): void {
    this.calls.length = 0;
  }
  /** Stored objects of a kind (copies), for assertions. */
  all<T extends KubeObject>(kind: ResourceKind): T[] {
    return [...(this.store.get(kindKey(kind))?.values() ?? [])].map((o) => clone(o) as T);
  }
  peek<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string): T | undefined {
    const o = this.bucket(kind).get(objKey(namespace, name));
    return o ? (clone(o) as T) : undefined;
  }
  /**
   * What another controller does (kube-controller-manager, KEDA, kubelet): writes without being counted and
   * without resourceVersion checks; status included as given.
   */
  simulate<T extends KubeObject>(kind: ResourceKind, obj: T): T {
    const ns = obj.metadata.namespace ?? '';
    const b = this.bucket(kind);
    const old = b.get(objKey(ns, obj.metadata.name ?? ''));
    const next = clone(obj);
    next.apiVersion = kind.apiVersion;
    next.kind = kind.kind;
    next.metadata = {
      ...next.metadata,
      uid: old?.metadata.uid ?? next.metadata.uid ?? randomUUID(),
      creationTimestamp: old?.metadata.creationTimestamp ?? new Date().toISOString(),
      generation: old?.metadata.generation ?? 1,
      resourceVersion: String(++this.rv),
    };
    b.set(objKey(ns, next.metadata.name ?? ''), next);
    this.emit(old ? 'MODIFIED' : 'ADDED', kind, next);
    return clone(next) as T;
  }
  simulateDelete(kind: ResourceKind, namespace: string, name: string): void {
    const b = this.bucket(kind);
    const old = b.get(objKey(namespace, name));
    if (!old) return;
    b.delete(objKey(namespace, name));
    this.emit('DELETED', kind, old);
    this.collectGarbage();
  }

  // ---- KubeClient ----

  async get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string): Promise<T | undefined> {
    this.enter({ verb: 'get', kind: kind.kind, namespace, name }, kind);
    const o = this.bucket(kind).get(objKey(namespace, name));
    return o ? (clone(o) as T) : undefined;
  }

  async list<T extends KubeObject>(kind: ResourceKind, namespace: string | undefined, opts: { labelSelector?: Record<string, string> } = {}): Promise<T[]> {
    this.enter({ verb: 'list', kind: kind.kind, namespace: namespace ?? '', name: '' }, kind);
    return [...this.bucket(kind).values()]
      .filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matchesLabels(o, opts.labelSelector))
      .map((o) => clone(o) as T);
  }

  async create<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    this.enter({ verb: 'create', kind: kind.kind, namespace: ns, name }, kind);
    if (!name) throw new KubeApiError(422, `${kind.kind}: metadata.name is required`, 'Invalid');
    const b = this.bucket(kind);
    if (b.has(objKey(ns, name))) throw new KubeApiError(409, `${kind.plural} "${name}" already exists`, 'AlreadyExists');
    this.checkOwners(obj);
    const next = clone(obj) as KubeObject;
    next.apiVersion = kind.apiVersion;
    next.kind = kind.kind;
    next.metadata = {
      ...next.metadata,
      namespace: ns,
      uid: randomUUID(),
      resourceVersion: String(++this.rv),
      generation: 1,
      creationTimestamp: new Date().toISOString(),
    };
    delete next.metadata.deletionTimestamp;
    if (kind.statusSubresource) delete next.status;
    applyDefaults(kind, next);
    b.set(objKey(ns, name), next);
    this.emit('ADDED', kind, next);
    return clone(next) as T;
  }

  async update<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    return this.replace(kind, obj, 'update');
  }

  async updateStatus<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    if (!kind.statusSubresource) throw new KubeApiError(404, `${kind.kind} has no status subresource`, 'NotFound');
    return this.replace(kind, obj, 'updateStatus');
  }

  async delete(kind: ResourceKind, namespace: string, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    this.enter({ verb: 'delete', kind: kind.kind, namespace, name }, kind);
    const b = this.bucket(kind);
    const old = b.get(objKey(namespace, name));
    if (!old) return false;
    if (opts.uid && old.metadata.uid !== opts.uid) throw new KubeApiError(409, `${kind.kind} ${name}: uid precondition failed`, 'Conflict');
    this.remove(kind, old, opts.propagationPolicy ?? 'Background');
    return true;
  }

  async served(kind: ResourceKind): Promise<boolean> {
    return !this.unserved.has(kindKey(kind));
  }

  // ---- internals ----

  private bucket(kind: ResourceKind): Map<string, KubeObject> {
    const key = kindKey(kind);
    this.kinds.set(key, kind);
    let b = this.store.get(key);
    if (!b) this.store.set(key, (b = new Map()));
    return b;
  }

  private enter(call: CallRecord, kind: ResourceKind): void {
    this.calls.push(call);
    if (this.unserved.has(kindKey(kind))) throw new KubeApiError(404, `the server could not find the requested resource (${kind.plural}.${kind.apiVersion})`, 'NotFound');
    for (const f of [...this.faults]) {
      const err = f(call);
      if (err) throw err;
    }
  }

  private emit(type: WatchEvent['type'], kind: ResourceKind, obj: KubeObject): void {
    for (const l of this.listeners) l({ type, kind, object: clone(obj) });
  }

  private checkOwners(obj: KubeObject): void {
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      for (const field of ['apiVersion', 'kind', 'name', 'uid']) {
        if (typeof ref[field] !== 'string' || ref[field] === '') throw new KubeApiError(422, `metadata.ownerReferences.${field}: Required value`, 'Invalid');
      }
    }
  }

  private replace<T extends KubeObject>(kind: ResourceKind, obj: T, verb: 'update' | 'updateStatus'): T {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    this.enter({ verb, kind: kind.kind, namespace: ns, name }, kind);
    const b = this.bucket(kind);
    const old = b.get(objKey(ns, name));
    if (!old) throw new KubeApiError(404, `${kind.plural} "${name}" not found`, 'NotFound');
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== old.metadata.resourceVersion) {
      throw new KubeApiError(409, `Operation cannot be fulfilled on ${kind.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, 'Conflict');
    }
    let next: KubeObject;
    if (verb === 'updateStatus') {
      next = clone(old);
      next.status = clone(obj.status);
    } else {
      this.checkOwners(obj);
      next = clone(obj) as KubeObject;
      next.apiVersion = kind.apiVersion;
      next.kind = kind.kind;
      // Fields the API server owns.
      next.metadata = {
        ...next.metadata,
        uid: old.metadata.uid,
        creationTimestamp: old.metadata.creationTimestamp,
        generation: old.metadata.generation,
        deletionTimestamp: old.metadata.deletionTimestamp,
      };
      if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
      if (kind.statusSubresource) next.status = clone(old.status);
      if (old.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
        if (added.length) throw new KubeApiError(422, `metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`, 'Invalid');
      }
      applyDefaults(kind, next); // before validation, as the API server does
      checkImmutable(kind, old, next);
      if (!isDeepStrictEqual(stripVolatile(old).spec, stripVolatile(next).spec) && 'spec' in next) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    // A no-op write keeps the resourceVersion, as the API server does.
    if (!isDeepStrictEqual(stripRv(old), stripRv(next))) next.metadata.resourceVersion = String(++this.rv);
    else next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      b.delete(objKey(ns, name));
      this.emit('DELETED', kind, next);
      this.collectGarbage();
      return clone(next) as T;
    }
    b.set(objKey(ns, name), next);
    if (next.metadata.resourceVersion !== old.metadata.resourceVersion) this.emit('MODIFIED', kind, next);
    return clone(next) as T;
  }

  private remove(kind: ResourceKind, obj: KubeObject, policy: 'Background' | 'Foreground' | 'Orphan'): void {
    const b = this.bucket(kind);
    const key = objKey(obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    if ((obj.metadata.finalizers ?? []).length > 0) {
      if (!obj.metadata.deletionTimestamp) {
        obj.metadata.deletionTimestamp = new Date().toISOString();
        obj.metadata.resourceVersion = String(++this.rv);
        this.emit('MODIFIED', kind, obj);
      }
      return;
    }
    b.delete(key);
    this.emit('DELETED', kind, obj);
    if (policy === 'Orphan') {
      for (const [, bucket] of this.store) {
        for (const dep of bucket.values()) {
          const refs = dep.metadata.ownerReferences ?? [];
          if (refs.some((r) => r.uid === obj.metadata.uid)) {
            dep.metadata.ownerReferences = refs.filter((r) => r.uid !== obj.metadata.uid);
            dep.metadata.resourceVersion = String(++this.rv);
          }
        }
      }
    }
    this.collectGarbage();
  }

  /** Deletes objects whose owners are all gone, as the garbage collector does. */
  private collectGarbage(): void {
    let changed = true;
    while (changed) {
      changed = false;
      const uids = new Set<string>();
      for (const bucket of this.store.values()) for (const o of bucket.values()) if (o.metadata.uid) uids.add(o.metadata.uid);
      for (const [key, bucket] of this.store) {
        const kind = this.kinds.get(key);
        if (!kind) continue;
        for (const o of [...bucket.values()]) {
          const refs = o.metadata.ownerReferences ?? [];
          if (refs.length > 0 && refs.every((r) => !uids.has(String(r.uid)))) {
            if ((o.metadata.finalizers ?? []).length > 0 && o.metadata.deletionTimestamp) continue;
            this.remove(kind, o, 'Background');
            changed = true;
          }
        }
      }
    }
  }
}

function stripRv(o: KubeObject): KubeObject {
  const c = clone(o);
  delete c.metadata.resourceVersion;
  return c;
}

function stripVolatile(o: KubeObject): KubeObject {
  const c = stripRv(o);
  delete c.status;
  return c;
}

function checkImmutable(kind: ResourceKind, old: KubeObject, next: KubeObject): void {
  const os = (old.spec ?? {}) as Record<string, unknown>;
  const ns = (next.spec ?? {}) as Record<string, unknown>;
  if (kind.kind === 'Deployment' && !isDeepStrictEqual(os.selector, ns.selector)) {
    throw new KubeApiError(422, `Deployment.apps "${next.metadata.name}" is invalid: spec.selector: Invalid value: field is immutable`, 'Invalid');
  }
  if (kind.kind === 'StatefulSet') {
    for (const field of new Set([...Object.keys(os), ...Object.keys(ns)])) {
      if (!STATEFULSET_MUTABLE.has(field) && !isDeepStrictEqual(os[field], ns[field])) {
        throw new KubeApiError(
          422,
          `StatefulSet.apps "${next.metadata.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
          'Invalid',
        );
      }
    }
  }
}

/** The API server's defaults that matter to a diffing reconciler. */
function applyDefaults(kind: ResourceKind, obj: KubeObject): void {
  if (kind.kind !== 'Deployment' && kind.kind !== 'StatefulSet') return;
  const spec = (obj.spec ??= {}) as Record<string, unknown>;
  if (spec.replicas === undefined) spec.replicas = 1;
  spec.revisionHistoryLimit ??= 10;
  const template = (spec.template ?? {}) as { spec?: Record<string, unknown> };
  if (template.spec) {
    template.spec.restartPolicy ??= 'Always';
    template.spec.dnsPolicy ??= 'ClusterFirst';
    template.spec.schedulerName ??= 'default-scheduler';
    for (const c of (template.spec.containers ?? []) as Array<Record<string, unknown>>) {
      c.terminationMessagePath ??= '/dev/termination-log';
      c.imagePullPolicy ??= 'IfNotPresent';
    }
  }
  if (kind.kind === 'StatefulSet') {
    spec.podManagementPolicy ??= 'OrderedReady';
    for (const vct of (spec.volumeClaimTemplates ?? []) as Array<Record<string, unknown>>) {
      vct.apiVersion ??= 'v1';
      vct.kind ??= 'PersistentVolumeClaim';
      ((vct.spec ??= {}) as Record<string, unknown>).volumeMode ??= 'Filesystem';
    }
  }
}
