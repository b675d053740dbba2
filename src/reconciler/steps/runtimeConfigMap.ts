// Step 4: ConfigMap asya-runtime (the runtime script) in the actor's namespace, shared by its actors and owned by
// none; or, when the reconciler has no script, an Event once per actor (the condition message says it too).
import { KINDS, type KubeObject } from '../../kube/client.js';
import { RUNTIME_CONFIGMAP } from '../../names.js';
import { desiredRuntimeConfigMap, stableStringify } from '../desired.js';
import type { ReconcileKit } from '../kit.js';
import { EVENT } from '../reasons.js';
import type { ActorContext } from './context.js';

export function runtimeMissingMessage(kit: ReconcileKit): string {
  return `runtime script ${kit.config.runtime.scriptPath} is missing in the reconciler: ConfigMap ${RUNTIME_CONFIGMAP} is not managed (set runtime.source)`;
}

export async function ensureRuntimeConfigMap(kit: ReconcileKit, ctx: ActorContext): Promise<void> {
  const script = kit.deps.runtimeScript;
  if (script === undefined) {
    const uid = ctx.actor.metadata.uid ?? ctx.key;
    await kit.eventOnce(`runtime-missing/${uid}`, ctx.actor, 'Warning', EVENT.RuntimeScriptMissing, runtimeMissingMessage(kit));
    return;
  }
  const desired = desiredRuntimeConfigMap(ctx.namespace, script);
  const existing = await kit.client.get<KubeObject>(KINDS.configMap, ctx.namespace, RUNTIME_CONFIGMAP);
  if (!existing) {
    try {
      await kit.client.create(KINDS.configMap, desired);
      return;
    } catch (err) {
      // Another actor of the namespace created it meanwhile (or the cache is behind): compare with it.
      const live = await kit.existingAfterConflict(KINDS.configMap, ctx.namespace, RUNTIME_CONFIGMAP, err);
      if (stableStringify(live.data) !== stableStringify(desired.data)) await kit.client.update(KINDS.configMap, { ...live, data: desired.data });
      return;
    }
  }
  if (stableStringify(existing.data) === stableStringify(desired.data)) return;
  await kit.client.update(KINDS.configMap, { ...existing, data: desired.data });
}
