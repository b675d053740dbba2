// A client-node informer that never stays down: client-node stops an informer on any error but 410 Gone,
// so we restart it with capped exponential backoff. `synced` turns true after the first complete list.
import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';

export interface InformerHandlers<T> {
  onUpsert(obj: T): void;
  onDelete(obj: T): void;
}

export interface RunningInformer {
  readonly synced: boolean;
  /** Resolves after the first complete list. */
  readonly ready: Promise<void>;
  /** Objects currently in the informer's cache. */
  list(): readonly KubernetesObject[];
  stop(): Promise<void>;
}

export function runInformer<T extends KubernetesObject>(opts: {
  kubeConfig: KubeConfig;
  /** API path of the watched collection, e.g. /apis/asya.sh/v1alpha1/asyncactors */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  handlers: InformerHandlers<T>;
  logger: Logger;
  name: string;
  maxBackoffMs?: number;
}): RunningInformer {
  // start() also resolves when the list failed (the failure goes to 'error'), so track the list itself.
  let listed = false;
  const list = async () => {
    const result = await opts.list();
    listed = true;
    return result;
  };
  const informer = makeInformer<T>(opts.kubeConfig, opts.path, list, opts.labelSelector);
  let synced = false;
  let stopped = false;
  let backoff = 500;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let retry: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  informer.on('add', (o) => opts.handlers.onUpsert(o));
  informer.on('update', (o) => opts.handlers.onUpsert(o));
  informer.on('delete', (o) => opts.handlers.onDelete(o));
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
    opts.logger.warn('informer stopped, restarting', { informer: opts.name, error: message, retryInMs: backoff });
    retry = setTimeout(() => void start(), backoff);
    backoff = Math.min(backoff * 2, maxBackoff);
  });

  const start = async () => {
    if (stopped) return;
    try {
      await informer.start();
      backoff = 500;
      if (!synced && listed) {
        synced = true;
        opts.logger.info('informer synced', { informer: opts.name });
        resolveReady();
      }
    } catch (err) {
      // start() rejects only on unexpected failures; errors of list/watch arrive through 'error'.
      opts.logger.warn('informer start failed', { informer: opts.name, error: (err as Error).message });
      retry = setTimeout(() => void start(), backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  };
  void start();

  return {
    get synced() {
      return synced;
    },
    ready,
    list: () => informer.list(),
    stop: async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      await informer.stop();
    },
  };
}
