// Desired state of everything an AsyncActor owns, as pure functions of the actor and the configuration.
// Each object carries a hash of what we decide (SPEC_HASH_ANNOTATION), so the reconciler compares hashes,
// not objects the API server has defaulted, and writes only when our intent changed.
import { createHash } from 'node:crypto';
import type { DefaultedActor, WorkloadKind } from '../api/schema.js';
import type { OperatorConfig, TransportConfig } from '../config/schema.js';
import type { KubeObject } from '../kube/client.js';
import { pluginOf } from '../transports/registry.js';
import { workloadKind } from '../workloads/index.js';
import {
  ACTOR_LABEL,
  IMMUTABLE_HASH_ANNOTATION,
  KEDA_API_VERSION,
  KEDA_TRIGGER_NAME,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  RUNTIME_CONFIGMAP,
  RUNTIME_SCRIPT_KEY,
  SPEC_HASH_ANNOTATION,
  queueNameFor,
  triggerAuthNameFor,
} from '../names.js';

/** JSON with sorted keys, so equal values hash equally. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v ?? null)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 16);
}

export function ownerReference(actor: DefaultedActor): Record<string, unknown> {
  return { apiVersion: actor.apiVersion, kind: actor.kind, name: actor.metadata.name, uid: actor.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function baseMeta(actor: DefaultedActor, name: string, owned = true): KubeObject['metadata'] {
  return {
    name,
    namespace: actor.metadata.namespace,
    labels: { [ACTOR_LABEL]: actor.metadata.name ?? '', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    ...(owned ? { ownerReferences: [ownerReference(actor)] } : {}),
  };
}

function withHash<T extends KubeObject>(obj: T, intent: unknown, extra: Record<string, string> = {}): T {
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [SPEC_HASH_ANNOTATION]: hashOf(intent), ...extra };
  return obj;
}

const KIND_API = 'apps/v1';

export interface DesiredWorkload {
  kind: WorkloadKind;
  object: KubeObject;
  /** Replicas we set (scaling disabled); undefined when KEDA owns the count. */
  replicas?: number;
}

export function desiredWorkload(actor: DefaultedActor, transport: TransportConfig | undefined): DesiredWorkload {
  const name = actor.metadata.name ?? '';
  const kind = actor.spec.workload.kind;
  const template = structuredClone(actor.spec.workload.template) as { metadata?: Record<string, unknown>; spec: Record<string, unknown> };
  const tmeta = (template.metadata ??= {});
  tmeta.labels = { ...((tmeta.labels as Record<string, string> | undefined) ?? {}), [ACTOR_LABEL]: name };
  const identity = transport ? pluginOf(transport).podIdentity?.(transport.config, name) : undefined;
  if (identity && !template.spec.serviceAccountName) template.spec.serviceAccountName = identity.serviceAccountName;
  const selector = { matchLabels: { [ACTOR_LABEL]: name } };
  const replicas = actor.spec.scaling.enabled ? undefined : actor.spec.workload.replicas;
  const spec: Record<string, unknown> = { selector, template };
  if (replicas !== undefined) spec.replicas = replicas;
  const module = workloadKind(kind);
  Object.assign(spec, module.specFields(actor));
  const immutable: Record<string, unknown> = { kind, selector, ...module.immutableFields(spec) };
  const object = withHash({ apiVersion: KIND_API, kind, metadata: baseMeta(actor, name), spec }, { spec, labels: tmeta.labels }, { [IMMUTABLE_HASH_ANNOTATION]: hashOf(immutable) });
  return { kind, object, ...(replicas !== undefined ? { replicas } : {}) };
}

export function desiredServiceAccount(actor: DefaultedActor, transport: TransportConfig | undefined): KubeObject | undefined {
  const identity = transport ? pluginOf(transport).podIdentity?.(transport.config, actor.metadata.name ?? '') : undefined;
  if (!identity) return undefined;
  const meta = baseMeta(actor, identity.serviceAccountName);
  meta.annotations = identity.annotations;
  return withHash({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta }, meta.annotations);
}

/** Shared by every actor of a namespace, so owned by none (deleting one actor must not remove it). */
export function desiredRuntimeConfigMap(namespace: string, script: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: RUNTIME_CONFIGMAP, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
    data: { [RUNTIME_SCRIPT_KEY]: script },
  };
}

export interface ScalingObjects {
  scaledObject: KubeObject;
  triggerAuthentication?: KubeObject;
}

/** The ScaledObject (and TriggerAuthentication) for an actor with scaling enabled; undefined otherwise. */
export function desiredScaling(actor: DefaultedActor, transport: TransportConfig, queueUrl: string | undefined): ScalingObjects | undefined {
  const s = actor.spec.scaling;
  if (!s.enabled) return undefined;
  const name = actor.metadata.name ?? '';
  const queue = queueNameFor(name);
  const authName = triggerAuthNameFor(name);
  const t = pluginOf(transport).kedaTrigger(transport.config, { queue, queueLength: s.queueLength, ...(queueUrl !== undefined ? { queueUrl } : {}) });
  const trigger: Record<string, unknown> = { type: t.type, name: KEDA_TRIGGER_NAME, metadata: t.metadata };
  const triggerAuth: KubeObject | undefined = t.authentication
    ? { apiVersion: KEDA_API_VERSION, kind: 'TriggerAuthentication', metadata: baseMeta(actor, authName), spec: t.authentication }
    : undefined;
  if (triggerAuth) {
    trigger.authenticationRef = { name: authName };
    withHash(triggerAuth, triggerAuth.spec);
  }
  const adv = s.advanced;
  if (adv?.metricType && !adv.formula) trigger.metricType = adv.metricType;
  const advanced: Record<string, unknown> = {};
  if (adv?.formula) {
    advanced.scalingModifiers = {
      formula: adv.formula,
      ...(adv.target ? { target: adv.target } : {}),
      ...(adv.activationTarget ? { activationTarget: adv.activationTarget } : {}),
      ...(adv.metricType ? { metricType: adv.metricType } : {}),
    };
  }
  if (adv?.restoreToOriginalReplicaCount !== undefined) advanced.restoreToOriginalReplicaCount = adv.restoreToOriginalReplicaCount;
  const spec: Record<string, unknown> = {
    scaleTargetRef: { apiVersion: KIND_API, kind: actor.spec.workload.kind, name },
    minReplicaCount: s.minReplicas,
    maxReplicaCount: s.maxReplicas,
    pollingInterval: s.pollingInterval,
    cooldownPeriod: s.cooldownPeriod,
    triggers: [trigger],
    ...(Object.keys(advanced).length ? { advanced } : {}),
  };
  const scaledObject = withHash({ apiVersion: KEDA_API_VERSION, kind: 'ScaledObject', metadata: baseMeta(actor, name), spec }, spec);
  return { scaledObject, ...(triggerAuth ? { triggerAuthentication: triggerAuth } : {}) };
}

export type { OperatorConfig };
