// The Kubernetes API as plain JSON over one keep-alive HTTPS agent. client-node's typed clients turn every
// object into model class instances (and back) through its ObjectSerializer, which dominated the reconciler's
// CPU and memory; we only ever need the JSON the API server sends. Credentials come from client-node's
// KubeConfig on every request (a rotated ServiceAccount token is picked up).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RestResponse<T = any> {
  status: number;
  body: T;
}

export interface RestRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute path, e.g. /apis/apps/v1/namespaces/ns/deployments/name */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class KubeRest {
  private agent?: http.Agent;
  private readonly server: URL;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: { userAgent?: string; maxSockets?: number } = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    this.server = new URL(cluster.server);
  }

  /** The credentials and TLS options of this request; the agent is made once from the first ones. */
  private async options(method: string): Promise<https.RequestOptions> {
    const o: https.RequestOptions = { method, headers: { accept: 'application/json', 'user-agent': this.opts.userAgent ?? 'asya-webhook' } };
    await this.kc.applyToHTTPSOptions(o);
    if (!this.agent) {
      const tls = { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername };
      this.agent =
        this.server.protocol === 'http:'
          ? new http.Agent({ keepAlive: true, maxSockets: this.opts.maxSockets ?? 16 })
          : new https.Agent({ ...tls, keepAlive: true, maxSockets: this.opts.maxSockets ?? 16 });
    }
    o.agent = this.agent;
    return o;
  }

  url(path: string, query?: RestRequest['query']): URL {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  async request<T = any>(r: RestRequest): Promise<RestResponse<T>> {
    const method = r.method ?? 'GET';
    const opts = await this.options(method);
    const url = this.url(r.path, r.query);
    const payload = r.body === undefined ? undefined : Buffer.from(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    if (payload) {
      opts.headers = { ...(opts.headers as Record<string, string>), 'content-type': r.contentType ?? 'application/json', 'content-length': String(payload.length) };
    }
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise<RestResponse<T>>((resolve, reject) => {
      const req = mod.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (text && (res.headers['content-type'] ?? '').includes('json')) {
            try {
              body = JSON.parse(text);
            } catch {
              // keep the text
            }
          }
          resolve({ status: res.statusCode ?? 0, body: body as T });
        });
      });
      req.setTimeout(r.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${(r.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000}s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}
