// An informer of our own: list (plain JSON, paginated) then watch from the list's resourceVersion, keeping a
// store of transformed objects. Compared with client-node's, it keeps one copy of each object and only the
// fields we use (a transform drops managedFields, pod specs...), never stays down (it relists when the watch
// expires, 410 Gone, and retries failures with capped exponential backoff), and its store is what the
// reconciler reads instead of the API server (reconciler/cache.ts).
import type { Logger } from '../observability/logger.js';
import type { KubeObject, ResourceKind } from './client.js';
import type { KubeRest } from './rest.js';
import { collectionPath } from './restClient.js';

export interface InformerHandlers<T> {
  /** Added, or changed (`old` is the previous cached version). */
  onUpsert?(obj: T, old: T | undefined): void;
  onDelete?(obj: T): void;
}

export interface RunningInformer<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly synced: boolean;
  /** Resolves after the first complete list. */
  readonly ready: Promise<void>;
  /** Objects currently in the store. */
  list(): T[];
  get(namespace: string, name: string): T | undefined;
  /**
   * Puts the answer of our own write in the store before its watch event arrives, unless the store already
   * has a newer version (as client-go's mutation cache): the next read sees what we wrote.
   */
  assume(obj: KubeObject): void;
  stop(): Promise<void>;
}

/** Whether resourceVersion a is newer than b (they are etcd revisions: integers, compared as such). */
export function newerVersion(a: string | undefined, b: string | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  try {
    return BigInt(a) > BigInt(b);
  } catch {
    return a !== b;
  }
}

export interface InformerOptions<T extends KubeObject> {
  name: string;
  kind: ResourceKind;
  rest: KubeRest;
  labelSelector?: string;
  fieldSelector?: string;
  /** Keeps only what is used of each object (called on every listed or watched object). */
  transform?: (obj: KubeObject) => T;
  handlers?: InformerHandlers<T>;
  logger: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Drops what nobody reads and what takes most of the memory of a cached object: managedFields. */
export function stripManagedFields<T extends KubeObject>(o: T): T {
  if (o.metadata?.managedFields) delete o.metadata.managedFields;
  return o;
}

class GoneError extends Error {}

export function runInformer<T extends KubeObject>(o: InformerOptions<T>): RunningInformer<T> {
  const store = new Map<string, T>();
  const transform = o.transform ?? ((x: KubeObject) => stripManagedFields(x) as T);
  const minBackoff = o.minBackoffMs ?? 500;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  let failures = 0;
  let backoff = minBackoff;
  let synced = false;
  let stopped = false;
  let resourceVersion = '';
  let timer: NodeJS.Timeout | undefined;
  let abort: (() => void) | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  const upsert = (raw: KubeObject): void => {
    const obj = transform({ apiVersion: o.kind.apiVersion, kind: o.kind.kind, ...raw });
    const k = keyOf(obj);
    const old = store.get(k);
    store.set(k, obj);
    o.handlers?.onUpsert?.(obj, old);
  };
  const remove = (raw: KubeObject): void => {
    const k = keyOf(raw);
    const old = store.get(k);
    store.delete(k);
    o.handlers?.onDelete?.(old ?? transform({ apiVersion: o.kind.apiVersion, kind: o.kind.kind, ...raw }));
  };

  const list = async (): Promise<void> => {
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    do {
      const r = await o.rest.request<{ items?: KubeObject[]; metadata?: { continue?: string; resourceVersion?: string } }>({
        path: collectionPath(o.kind),
        query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: 500, continue: cont },
      });
      if (r.status === 410) throw new GoneError('list continuation expired');
      if (r.status !== 200) {
        const msg = typeof r.body === 'object' && r.body && 'message' in r.body ? String((r.body as { message: unknown }).message) : `HTTP ${r.status}`;
        throw Object.assign(new Error(`list ${o.kind.plural}: ${msg}`), { statusCode: r.status });
      }
      for (const item of r.body.items ?? []) {
        upsert(item);
        seen.add(keyOf(item));
      }
      cont = r.body.metadata?.continue || undefined;
      rv = r.body.metadata?.resourceVersion ?? rv;
    } while (cont);
    // Whatever the store has that the list did not: deleted while we were not watching.
    for (const [k, obj] of [...store]) {
      if (!seen.has(k)) {
        store.delete(k);
        o.handlers?.onDelete?.(obj);
      }
    }
    resourceVersion = rv;
    if (!synced) {
      synced = true;
      o.logger.info('informer synced', { informer: o.name, objects: store.size });
      resolveReady();
    }
  };

  const watch = async (): Promise<void> => {
    let gone: Error | undefined;
    const handle = o.rest.watch(
      collectionPath(o.kind),
      {
        resourceVersion,
        allowWatchBookmarks: true,
        // The server ends the watch after this; it is then opened again from the last resourceVersion.
        timeoutSeconds: 240 + Math.floor(Math.random() * 60),
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
      },
      (type, obj: KubeObject & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          gone = obj?.code === 410 ? new GoneError(obj.message ?? 'watch expired') : new Error(`watch ${o.kind.plural}: ${obj?.message ?? 'error'}`);
          handle.abort();
          return;
        }
        const rv = obj?.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
        if (type === 'ADDED' || type === 'MODIFIED') upsert(obj);
        else if (type === 'DELETED') remove(obj);
        // BOOKMARK: only the resourceVersion moves.
        backoff = minBackoff;
      },
    );
    abort = handle.abort;
    if (stopped) handle.abort();
    try {
      await handle.done;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 410) throw new GoneError('watch expired');
      throw err;
    }
    if (gone) throw gone;
  };

  const loop = async (): Promise<void> => {
    let needList = true;
    while (!stopped) {
      try {
        if (needList) {
          await list();
          needList = false;
          backoff = minBackoff;
          if (failures > 0) o.logger.info('informer recovered', { informer: o.name, failures });
          failures = 0;
        }
        await watch();
      } catch (err) {
        if (stopped) return;
        if (err instanceof GoneError) {
          needList = true;
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        // Said once per outage at warn level (an optional CRD such as KEDA's may be missing for good).
        const fields = { informer: o.name, error: message, retryInMs: backoff };
        if (failures++ === 0) o.logger.warn('informer failed, retrying', fields);
        else o.logger.debug('informer failed, retrying', fields);
        await new Promise<void>((r) => (timer = setTimeout(r, backoff)));
        backoff = Math.min(backoff * 2, maxBackoff);
        // What failed may have been the collection itself (a CRD deleted and re-created): list again.
        needList = true;
      }
    }
  };
  void loop();

  return {
    name: o.name,
    get synced() {
      return synced;
    },
    ready,
    list: () => [...store.values()],
    get: (namespace, name) => store.get(`${namespace}/${name}`),
    assume: (raw) => {
      const obj = transform({ apiVersion: o.kind.apiVersion, kind: o.kind.kind, ...structuredClone(raw) });
      const k = keyOf(obj);
      if (newerVersion(obj.metadata.resourceVersion, store.get(k)?.metadata.resourceVersion)) store.set(k, obj);
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort?.();
    },
  };
}
