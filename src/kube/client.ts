// The one interface for every Kubernetes call the reconciler makes. A real implementation (restClient.ts,
// plain JSON over rest.ts) and an in-memory one for tests and benchmarks (test/support/memoryKube.ts) stand behind it.
import type { ObjectMeta } from '../api/schema.js';
import { ACTOR_API_VERSION, ACTOR_KIND, ACTOR_PLURAL, KEDA_API_VERSION } from '../names.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ResourceKind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Whether status is a subresource (spec writes ignore status and the reverse). */
  statusSubresource: boolean;
}

const k = (apiVersion: string, kind: string, plural: string, statusSubresource = false, namespaced = true): ResourceKind => ({
  apiVersion,
  kind,
  plural,
  namespaced,
  statusSubresource,
});

export const KINDS = {
  actor: k(ACTOR_API_VERSION, ACTOR_KIND, ACTOR_PLURAL, true),
  deployment: k('apps/v1', 'Deployment', 'deployments', true),
  statefulSet: k('apps/v1', 'StatefulSet', 'statefulsets', true),
  pod: k('v1', 'Pod', 'pods', true),
  serviceAccount: k('v1', 'ServiceAccount', 'serviceaccounts'),
  configMap: k('v1', 'ConfigMap', 'configmaps'),
  event: k('v1', 'Event', 'events'),
  hpa: k('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true),
  scaledObject: k(KEDA_API_VERSION, 'ScaledObject', 'scaledobjects', true),
  triggerAuthentication: k(KEDA_API_VERSION, 'TriggerAuthentication', 'triggerauthentications'),
  lease: k('coordination.k8s.io/v1', 'Lease', 'leases'),
  mutatingWebhookConfiguration: k('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false, false),
  validatingWebhookConfiguration: k('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false, false),
  crd: k('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', true, false),
  secret: k('v1', 'Secret', 'secrets'),
} as const;

export type KindName = keyof typeof KINDS;

export interface DeleteOptions {
  /** Background (default), Foreground or Orphan. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Delete only if the object still has this uid (it was not re-created meanwhile). */
  uid?: string;
}

export interface KubeClient {
  get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(kind: ResourceKind, namespace: string | undefined, opts?: { labelSelector?: Record<string, string> }): Promise<T[]>;
  create<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T>;
  /** Replaces the object; metadata.resourceVersion must match the stored one or it fails with 409. */
  update<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T>;
  /** Replaces the status subresource (resourceVersion-checked like update). */
  updateStatus<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T>;
  /** False when the object did not exist. */
  delete(kind: ResourceKind, namespace: string, name: string, opts?: DeleteOptions): Promise<boolean>;
  /** Whether the API server serves this kind (the KEDA CRDs may be missing). */
  served(kind: ResourceKind): Promise<boolean>;
}

/** An API error with its HTTP status (409 conflict, 404 not found, 422 invalid...). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409;
export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404;
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';

export function matchesLabels(obj: KubeObject, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
