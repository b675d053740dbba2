// KubeClient on @kubernetes/client-node 2.x: generic CRUD through KubernetesObjectApi (which resolves
// plural names by discovery), the actor status through the custom-objects status subresource.
import { ApiException, CustomObjectsApi, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { RECONCILER_COMPONENT } from '../names.js';
import { KubeApiError, type DeleteOptions, type KubeClient, type KubeObject, type ResourceKind } from './client.js';

/** Exposes discovery (protected upstream) and lets a missing group be looked up again later. */
class DiscoveringObjectApi extends KubernetesObjectApi {
  async isServed(apiVersion: string, kind: string): Promise<boolean> {
    delete this.apiVersionResourceCache[apiVersion];
    try {
      return (await this.resource(apiVersion, kind)) !== undefined;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw err;
    }
  }
}

function toKubeError(err: unknown): unknown {
  if (err instanceof ApiException) {
    const body = (typeof err.body === 'string' ? safeJson(err.body) : err.body) as { message?: string; reason?: string } | undefined;
    return new KubeApiError(err.code, body?.message ?? err.message, body?.reason);
  }
  return err;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return { message: s };
  }
}

const selectorString = (sel: Record<string, string> | undefined) =>
  sel ? Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') : undefined;

export class NodeKubeClient implements KubeClient {
  private readonly objects: DiscoveringObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.objects = DiscoveringObjectApi.makeApiClient(kc) as DiscoveringObjectApi;
    Object.setPrototypeOf(this.objects, DiscoveringObjectApi.prototype);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toKubeError(err);
    }
  }

  async get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.call(() => this.objects.read({ apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace } }))) as unknown as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(kind: ResourceKind, namespace: string | undefined, opts: { labelSelector?: Record<string, string> } = {}): Promise<T[]> {
    const out = await this.call(() =>
      this.objects.list<KubernetesObject>(kind.apiVersion, kind.kind, namespace, undefined, undefined, undefined, undefined, selectorString(opts.labelSelector)),
    );
    return out.items.map((i) => ({ apiVersion: kind.apiVersion, kind: kind.kind, ...i }) as unknown as T);
  }

  async create<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    return (await this.call(() => this.objects.create({ ...obj, apiVersion: kind.apiVersion, kind: kind.kind } as KubernetesObject, undefined, undefined, RECONCILER_COMPONENT))) as unknown as T;
  }

  async update<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    return (await this.call(() => this.objects.replace({ ...obj, apiVersion: kind.apiVersion, kind: kind.kind } as KubernetesObject, undefined, undefined, RECONCILER_COMPONENT))) as unknown as T;
  }

  async updateStatus<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const [group, version] = kind.apiVersion.includes('/') ? kind.apiVersion.split('/') : ['', kind.apiVersion];
    if (!group) throw new KubeApiError(400, `updateStatus supports custom resources only (${kind.kind})`);
    return (await this.call(() =>
      this.custom.replaceNamespacedCustomObjectStatus({
        group,
        version: version ?? '',
        namespace: obj.metadata.namespace ?? '',
        plural: kind.plural,
        name: obj.metadata.name ?? '',
        body: obj,
        fieldManager: RECONCILER_COMPONENT,
      }),
    )) as T;
  }

  async delete(kind: ResourceKind, namespace: string, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.call(() =>
        this.objects.delete(
          { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace } },
          undefined,
          undefined,
          undefined,
          undefined,
          opts.propagationPolicy ?? 'Background',
          { propagationPolicy: opts.propagationPolicy ?? 'Background', ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}) },
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  async served(kind: ResourceKind): Promise<boolean> {
    return this.objects.isServed(kind.apiVersion, kind.kind);
  }
}
