// Informers over the AsyncActors of every namespace: the webhook keeps an ActorIndex with one (so admission
// never calls the API server), the reconciler enqueues from another.
import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { ActorIndex } from '../api/actorIndex.js';
import type { AsyncActor } from '../api/schema.js';
import { ACTOR_PLURAL, API_GROUP, API_VERSION } from '../names.js';
import type { Logger } from '../observability/logger.js';
import { runInformer, type InformerHandlers, type RunningInformer } from './informer.js';

/** A restarting informer on asyncactors.asya.sh in all namespaces. */
export function runAsyncActorInformer(kubeConfig: KubeConfig, handlers: InformerHandlers<KubernetesObject>, logger: Logger): RunningInformer {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  // Custom objects arrive as plain JSON (times as strings): the generic type is only for the informer.
  return runInformer<KubernetesObject>({
    kubeConfig,
    name: 'asyncactors',
    path: `/apis/${API_GROUP}/${API_VERSION}/${ACTOR_PLURAL}`,
    list: async () =>
      (await api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: ACTOR_PLURAL })) as KubernetesListObject<KubernetesObject>,
    handlers,
    logger,
  });
}

/** Keeps `index` in step with the AsyncActors of the cluster. */
export function runActorInformer(kubeConfig: KubeConfig, index: ActorIndex, logger: Logger, onChange?: () => void): RunningInformer {
  return runAsyncActorInformer(
    kubeConfig,
    {
      onUpsert: (a) => {
        index.upsert(a as unknown as AsyncActor);
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
