// KubeClient over the API server's JSON (rest.ts): paths come from the ResourceKind itself (apiVersion,
// plural), so nothing is discovered per call and nothing is converted to model classes.
import { RECONCILER_COMPONENT } from '../names.js';
import { KubeApiError, type DeleteOptions, type KubeClient, type KubeObject, type ResourceKind } from './client.js';
import type { KubeRest, RestResponse } from './rest.js';

/** /api/v1 or /apis/<group>/<version> */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection path of a kind, in a namespace or across all of them. */
export function collectionPath(kind: ResourceKind, namespace?: string): string {
  const ns = kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(kind.apiVersion)}${ns}/${kind.plural}`;
}

export function objectPath(kind: ResourceKind, namespace: string, name: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}

export function selectorString(sel: Record<string, string> | undefined): string | undefined {
  return sel ? Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') : undefined;
}

function apiError(res: RestResponse, what: string): KubeApiError {
  const body = res.body as { message?: string; reason?: string } | string | undefined;
  const message = typeof body === 'object' && body?.message ? body.message : `${what}: HTTP ${res.status}${typeof body === 'string' && body ? ` ${body.slice(0, 200)}` : ''}`;
  return new KubeApiError(res.status, message, typeof body === 'object' ? body?.reason : undefined);
}

const PAGE = 500;

export class RestKubeClient implements KubeClient {
  constructor(private readonly rest: KubeRest) {}

  private async ok<T>(res: Promise<RestResponse<T>>, what: string): Promise<T> {
    const r = await res;
    if (r.status < 200 || r.status > 299) throw apiError(r, what);
    return r.body;
  }

  async get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string): Promise<T | undefined> {
    const r = await this.rest.request<T>({ path: objectPath(kind, namespace, name) });
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw apiError(r, `get ${kind.kind} ${namespace}/${name}`);
    return r.body;
  }

  async list<T extends KubeObject>(kind: ResourceKind, namespace: string | undefined, opts: { labelSelector?: Record<string, string> } = {}): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.ok(
        this.rest.request<{ items?: T[]; metadata?: { continue?: string } }>({
          path: collectionPath(kind, namespace),
          query: { labelSelector: selectorString(opts.labelSelector), limit: PAGE, continue: cont },
        }),
        `list ${kind.plural}`,
      );
      for (const i of page.items ?? []) items.push({ apiVersion: kind.apiVersion, kind: kind.kind, ...i });
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  async create<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const ns = obj.metadata.namespace ?? '';
    return this.ok(
      this.rest.request<T>({ method: 'POST', path: collectionPath(kind, ns), query: { fieldManager: RECONCILER_COMPONENT }, body: { ...obj, apiVersion: kind.apiVersion, kind: kind.kind } }),
      `create ${kind.kind} ${ns}/${obj.metadata.name ?? ''}`,
    );
  }

  async update<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    return this.ok(
      this.rest.request<T>({ method: 'PUT', path: objectPath(kind, ns, name), query: { fieldManager: RECONCILER_COMPONENT }, body: { ...obj, apiVersion: kind.apiVersion, kind: kind.kind } }),
      `update ${kind.kind} ${ns}/${name}`,
    );
  }

  async updateStatus<T extends KubeObject>(kind: ResourceKind, obj: T): Promise<T> {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    return this.ok(
      this.rest.request<T>({ method: 'PUT', path: `${objectPath(kind, ns, name)}/status`, query: { fieldManager: RECONCILER_COMPONENT }, body: { ...obj, apiVersion: kind.apiVersion, kind: kind.kind } }),
      `update status of ${kind.kind} ${ns}/${name}`,
    );
  }

  async delete(kind: ResourceKind, namespace: string, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy ?? 'Background', ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}) };
    const r = await this.rest.request({ method: 'DELETE', path: objectPath(kind, namespace, name), body });
    if (r.status === 404) return false;
    if (r.status < 200 || r.status > 299) throw apiError(r, `delete ${kind.kind} ${namespace}/${name}`);
    return true;
  }

  async served(kind: ResourceKind): Promise<boolean> {
    const r = await this.rest.request<{ resources?: Array<{ name?: string }> }>({ path: groupVersionPath(kind.apiVersion) });
    if (r.status === 404) return false;
    if (r.status !== 200) throw apiError(r, `discovery of ${kind.apiVersion}`);
    return (r.body.resources ?? []).some((res) => res.name === kind.plural);
  }
}
