// The Kubernetes API as plain JSON over one keep-alive HTTPS agent: requests, and watches read line by line.
// client-node's typed clients turned every object into model class instances (and back) through its
// ObjectSerializer, which dominated the reconciler's CPU and memory; we only ever need the JSON the API server
// sends. Credentials come from kubeconfig.ts on every request (a rotated token is picked up).
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { ClusterAccess } from './kubeconfig.js';

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

export interface WatchHandle {
  /** Resolves when the watch ends: the server closed it, it was aborted, or it failed (rejects). */
  done: Promise<void>;
  abort(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class KubeRest {
  private readonly agent: http.Agent;

  constructor(
    readonly access: ClusterAccess,
    private readonly opts: { userAgent?: string; maxSockets?: number; /** Per request unless the request says (30 s). */ timeoutMs?: number } = {},
  ) {
    const sockets = opts.maxSockets ?? 16;
    this.agent =
      access.server.protocol === 'http:'
        ? new http.Agent({ keepAlive: true, maxSockets: sockets })
        : new https.Agent({ ...access.tls, keepAlive: true, maxSockets: sockets });
  }

  url(path: string, query?: RestRequest['query']): URL {
    const url = new URL(path, this.access.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async options(method: string, extra: Record<string, string> = {}): Promise<http.RequestOptions> {
    const authorization = await this.access.authorization();
    return {
      method,
      agent: this.agent,
      headers: { accept: 'application/json', 'user-agent': this.opts.userAgent ?? 'asya-webhook', ...(authorization ? { authorization } : {}), ...extra },
    };
  }

  async request<T = any>(r: RestRequest): Promise<RestResponse<T>> {
    const method = r.method ?? 'GET';
    const url = this.url(r.path, r.query);
    const payload = r.body === undefined ? undefined : Buffer.from(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    const opts = await this.options(method, payload ? { 'content-type': r.contentType ?? 'application/json', 'content-length': String(payload.length) } : {});
    const mod = url.protocol === 'http:' ? http : https;
    const timeoutMs = r.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
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
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeoutMs / 1000}s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * A watch (?watch=true): `onEvent` gets each event's type and object. A non-200 answer rejects `done` with its
   * statusCode; a connection silent for `idleTimeoutMs` ends it (done resolves: watch again).
   */
  watch(path: string, query: RestRequest['query'], onEvent: (type: string, object: any) => void, idleTimeoutMs = 360_000): WatchHandle {
    const url = this.url(path, { ...query, watch: true });
    const mod = url.protocol === 'http:' ? http : https;
    let req: http.ClientRequest | undefined;
    let aborted = false;
    const done = this.options('GET').then(
      (opts) =>
        new Promise<void>((resolve, reject) => {
          if (aborted) return resolve();
          req = mod.request(url, opts, (res) => {
            if (res.statusCode !== 200) {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => reject(Object.assign(new Error(`watch ${url.pathname}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`), { statusCode: res.statusCode })));
              return;
            }
            const lines = createInterface({ input: res, crlfDelay: Infinity });
            lines.on('line', (line) => {
              if (!line.trim()) return;
              let event: { type?: string; object?: unknown };
              try {
                event = JSON.parse(line);
              } catch {
                return;
              }
              if (event.type) onEvent(event.type, event.object);
            });
            res.on('end', () => resolve());
            res.on('close', () => resolve());
            res.on('error', (err) => (aborted ? resolve() : reject(err)));
          });
          req.setTimeout(idleTimeoutMs, () => req?.destroy());
          req.on('error', (err) => (aborted || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
          req.end();
        }),
    );
    return {
      done,
      abort: () => {
        aborted = true;
        req?.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
