// Step 3: the ServiceAccount actor pods run as when their transport gives them an identity (SQS with IRSA).
// Nothing is looked up otherwise: the reconciler then has no ServiceAccount rights (least privilege), and one
// left from an earlier configuration is owned by its actor and goes with it.
import { KINDS } from '../../kube/client.js';
import { desiredServiceAccount } from '../desired.js';
import type { ReconcileKit } from '../kit.js';
import type { ActorContext } from './context.js';

export async function ensureServiceAccount(kit: ReconcileKit, ctx: ActorContext): Promise<void> {
  const desired = desiredServiceAccount(ctx.defaulted, ctx.transportConfig);
  if (desired) await kit.apply(KINDS.serviceAccount, desired, ctx.actor.metadata.uid, ctx.actor);
}
