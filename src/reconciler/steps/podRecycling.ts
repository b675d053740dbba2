// Step 6: pods of this actor's workload stored without the injection annotation were admitted while the pod
// webhook was not registered (failurePolicy only covers a registered webhook). Once it is registered again,
// they are deleted one at a time (rate-limited) so that their controller re-creates them through the webhook.
import { KINDS } from '../../kube/client.js';
import { INJECTION_STATUS_ANNOTATION } from '../../names.js';
import type { ReconcileKit } from '../kit.js';
import { EVENT } from '../reasons.js';
import type { ActorContext, Observed, StepResult } from './context.js';

/** Pods admitted without the sidecar: look again this often while the pod webhook is not registered. */
const RECYCLE_RECHECK_MS = 15_000;
/** At most one recycled pod per actor per this long, so a rollout of replacements is gradual. */
const RECYCLE_ACTOR_INTERVAL_MS = 10_000;
/** And at most this many recycled pods per minute across all actors. */
const RECYCLE_GLOBAL_PER_MINUTE = 10;

/** Returns when to look again; nothing when there is nothing to do. */
export async function recycleUninjectedPods(kit: ReconcileKit, ctx: ActorContext, observed: Observed): Promise<StepResult> {
  if (!observed.ours || kit.config.webhook.excludedNamespaces.includes(ctx.namespace)) return {};
  const stale = observed.pods.filter(
    (p) => !p.metadata.deletionTimestamp && !p.metadata.annotations?.[INJECTION_STATUS_ANNOTATION] && (p.metadata.ownerReferences ?? []).some((r) => r.controller),
  );
  if (stale.length === 0) return {};
  if (!(await kit.podWebhookRegistered())) {
    kit.logger.debug('pods without the sidecar wait for the pod webhook to be registered', { actor: ctx.key, pods: stale.length });
    return { requeueAfterMs: RECYCLE_RECHECK_MS };
  }
  const now = kit.now();
  kit.recycles = kit.recycles.filter((t) => now - t < 60_000);
  const last = kit.lastRecycle.get(ctx.key) ?? 0;
  if (now - last < RECYCLE_ACTOR_INTERVAL_MS) return { requeueAfterMs: RECYCLE_ACTOR_INTERVAL_MS - (now - last) };
  if (kit.recycles.length >= RECYCLE_GLOBAL_PER_MINUTE) return { requeueAfterMs: 60_000 - (now - (kit.recycles[0] ?? now)) };
  const pod = stale[0]!;
  kit.lastRecycle.set(ctx.key, now);
  kit.recycles.push(now);
  await kit.deleteIgnoringMissing(KINDS.pod, pod);
  kit.logger.warn('recycled a pod admitted without the sidecar', { actor: ctx.key, pod: pod.metadata.name });
  await kit.event(
    ctx.actor,
    'Warning',
    EVENT.PodRecycled,
    `deleted pod ${pod.metadata.name ?? ''}: it was admitted without the asya-sidecar (the pod webhook was not registered); its controller re-creates it through the webhook`,
  );
  return stale.length > 1 ? { requeueAfterMs: RECYCLE_ACTOR_INTERVAL_MS } : {};
}
