// The three admission endpoints, as functions from a parsed request to a review (no I/O).
// The HTTP shell (server.ts) routes to them and counts their outcome in metrics.
import type { ActorStore } from '../api/actorIndex.js';
import type { AsyncActor } from '../api/schema.js';
import { convertWorkloadType, validateActor } from '../api/validate.js';
import { formatFieldError } from '../util/schemaChecker.js';
import type { OperatorConfig } from '../config/schema.js';
import { injectPod, podLabelActor, type Pod } from '../injection/inject.js';
import { ACTOR_KIND } from '../names.js';
import { allow, deny, patched, type AdmissionRequest, type AdmissionReview } from './admission.js';
import { PatchBuilder, deepEqual, pointer } from '../injection/patchBuilder.js';

export interface HandlerDeps {
  config: OperatorConfig;
  actors: ActorStore;
}

export interface HandlerResult {
  review: AdmissionReview;
  /** allowed | patched | denied | skipped: a metrics label */
  result: 'allowed' | 'patched' | 'denied' | 'skipped';
  /** A code naming why, for metrics and logs (never a sentence). */
  reason: string;
}

export type Handler = (req: AdmissionRequest, deps: HandlerDeps) => HandlerResult;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** POST /validate/asyncactors: CREATE and UPDATE of AsyncActors. */
export const validateActorHandler: Handler = (req, deps) => {
  if (req.kind.kind !== ACTOR_KIND) return { review: deny(req.uid, `this endpoint validates ${ACTOR_KIND}, not ${req.kind.kind}`), result: 'denied', reason: 'wrong_kind' };
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { review: allow(req.uid), result: 'allowed', reason: 'operation_ignored' };
  if (!isObject(req.object)) return { review: deny(req.uid, 'request.object must be an AsyncActor'), result: 'denied', reason: 'no_object' };
  const actor = req.object as unknown as AsyncActor;
  // The name is in the request when the object itself does not carry it (it always does for AsyncActors).
  if (isObject(actor.metadata)) {
    if (actor.metadata.namespace === undefined && req.namespace) actor.metadata.namespace = req.namespace;
  }
  const oldActor = req.operation === 'UPDATE' && isObject(req.oldObject) ? (req.oldObject as unknown as AsyncActor) : undefined;
  // An update that leaves the spec alone (finalizers, labels) or of an actor being deleted is always let
  // through: otherwise a configuration change (a transport disabled) could wedge the reconciler's finalizer.
  if (oldActor && (actor.metadata?.deletionTimestamp || deepEqual(actor.spec, oldActor.spec))) {
    return { review: allow(req.uid), result: 'allowed', reason: 'spec_unchanged' };
  }
  const { errors, warnings } = validateActor(actor, { config: deps.config, actors: deps.actors, oldActor });
  if (errors.length > 0) {
    const name = typeof actor.metadata?.name === 'string' ? actor.metadata.name : '<unnamed>';
    const message = `AsyncActor "${name}" is invalid:\n${errors.map((e) => `  ${formatFieldError(e)}`).join('\n')}`;
    return { review: deny(req.uid, message, 422, 'Invalid', warnings), result: 'denied', reason: 'invalid_actor' };
  }
  return { review: allow(req.uid, warnings), result: 'allowed', reason: 'valid' };
};

/** POST /mutate/asyncactors: converts the deprecated workload.type into workload.kind. */
export const mutateActorHandler: Handler = (req) => {
  if (req.kind.kind !== ACTOR_KIND) return { review: deny(req.uid, `this endpoint mutates ${ACTOR_KIND}, not ${req.kind.kind}`), result: 'denied', reason: 'wrong_kind' };
  if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || !isObject(req.object)) return { review: allow(req.uid), result: 'allowed', reason: 'operation_ignored' };
  const workload = (req.object as { spec?: { workload?: Record<string, unknown> } }).spec?.workload;
  if (!isObject(workload) || workload.type === undefined) return { review: allow(req.uid), result: 'allowed', reason: 'unchanged' };
  const b = new PatchBuilder(req.object as Record<string, unknown>);
  const converted = structuredClone(req.object) as unknown as AsyncActor;
  const { warnings, errors } = convertWorkloadType(converted);
  if (errors.length > 0) {
    // Leave it to the validating endpoint, which reports this with every other violation.
    return { review: allow(req.uid), result: 'allowed', reason: 'conflicting_workload_type' };
  }
  const path = pointer('spec', 'workload');
  b.set(path, 'kind', (converted.spec.workload as { kind: string }).kind);
  const ops = [...b.ops, { op: 'remove' as const, path: `${path}/type` }];
  return { review: patched(req.uid, ops, warnings), result: 'patched', reason: 'workload_type_converted' };
};

/** POST /mutate/pods: injects the sidecar into actor pods on CREATE. */
export const mutatePodHandler: Handler = (req, deps) => {
  if (req.kind.kind !== 'Pod' || req.operation !== 'CREATE' || (req.subResource ?? '') !== '') {
    return { review: allow(req.uid), result: 'skipped', reason: 'not_pod_create' };
  }
  if (!isObject(req.object)) return { review: deny(req.uid, 'request.object must be a Pod'), result: 'denied', reason: 'invalid_pod' };
  const pod = req.object as Pod;
  const namespace = req.namespace || (typeof pod.metadata?.namespace === 'string' ? pod.metadata.namespace : '') || 'default';
  const actorName = podLabelActor(pod);
  const actor = actorName ? deps.actors.get(namespace, actorName) : undefined;
  const r = injectPod({ pod, namespace, actor, config: deps.config });
  switch (r.outcome) {
    case 'injected':
      return { review: patched(req.uid, r.patch), result: 'patched', reason: 'injected' };
    case 'skipped':
      return { review: allow(req.uid), result: 'skipped', reason: r.reason };
    case 'denied':
      return { review: deny(req.uid, r.message, 403, 'Forbidden'), result: 'denied', reason: r.reason };
  }
};
