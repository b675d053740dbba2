// Step 1: our finalizer, before anything external exists, so that deleting the actor always cleans up after it.
import type { AsyncActor } from '../../api/schema.js';
import { KINDS, type KubeObject } from '../../kube/client.js';
import { FINALIZER } from '../../names.js';
import type { ReconcileKit } from '../kit.js';

export async function ensureFinalizer(kit: ReconcileKit, actor: AsyncActor & KubeObject): Promise<AsyncActor & KubeObject> {
  if ((actor.metadata.finalizers ?? []).includes(FINALIZER)) return actor;
  return kit.client.update(KINDS.actor, { ...actor, metadata: { ...actor.metadata, finalizers: [...(actor.metadata.finalizers ?? []), FINALIZER] } });
}
