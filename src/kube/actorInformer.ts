// Informers over the AsyncActors of every namespace: the webhook keeps an ActorIndex with one (so admission
// never calls the API server), the reconciler reads and enqueues from another.
import type { ActorIndex } from '../api/actorIndex.js';
import type { AsyncActor } from '../api/schema.js';
import type { Logger } from '../observability/logger.js';
import { KINDS, type KubeObject } from './client.js';
import { runInformer, type InformerHandlers, type RunningInformer } from './informer.js';
import type { KubeRest } from './rest.js';

/** A restarting informer on asyncactors.asya.sh in all namespaces. */
export function runAsyncActorInformer(rest: KubeRest, handlers: InformerHandlers<AsyncActor & KubeObject>, logger: Logger): RunningInformer<AsyncActor & KubeObject> {
  return runInformer<AsyncActor & KubeObject>({ name: 'asyncactors', kind: KINDS.actor, rest, handlers, logger });
}

/** Keeps `index` in step with the AsyncActors of the cluster. */
export function runActorInformer(rest: KubeRest, index: ActorIndex, logger: Logger, onChange?: () => void): RunningInformer {
  return runAsyncActorInformer(
    rest,
    {
      onUpsert: (a) => {
        index.upsert(a);
        onChange?.();
      },
      onDelete: (a) => {
        index.remove(a.metadata?.namespace ?? 'default', a.metadata?.name ?? '');
        onChange?.();
      },
    },
    logger,
  );
}
