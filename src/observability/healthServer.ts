// Plain-HTTP side ports for probes and Prometheus, kept off the TLS port so kubelet and Prometheus need
// no client certificates: /healthz and /readyz on the health port, /metrics on the metrics port (seed 001:
// metrics.port 8080, health.port 8081). With the same port for both, one server answers all three.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  /** Names of what is not ready yet; empty when ready. */
  notReady(): string[];
}

type Route = (res: http.ServerResponse) => void;

function routes(opts: { registry?: Registry; health?: HealthSource }): Record<string, Route> {
  const r: Record<string, Route> = {};
  if (opts.health) {
    const health = opts.health;
    r['/healthz'] = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    r['/readyz'] = (res) => {
      const missing = health.notReady();
      if (missing.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${missing.join(', ')}\n`);
    };
  }
  if (opts.registry) {
    const registry = opts.registry;
    r['/metrics'] = (res) => {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(String(err.message)),
      );
    };
  }
  return r;
}

function listen(port: number, host: string, table: Record<string, Route>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const route = table[(req.url ?? '/').split('?')[0] ?? '/'];
    if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405).end();
    else if (!route) res.writeHead(404).end();
    else route(res);
  });
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export interface ObservabilityServers {
  close(): Promise<void>;
}

export async function startObservabilityServers(opts: {
  healthPort: number;
  metricsPort: number;
  host?: string;
  registry: Registry;
  health: HealthSource;
}): Promise<ObservabilityServers> {
  const host = opts.host ?? '0.0.0.0';
  const servers =
    opts.healthPort === opts.metricsPort
      ? [await listen(opts.healthPort, host, routes(opts))]
      : [await listen(opts.healthPort, host, routes({ health: opts.health })), await listen(opts.metricsPort, host, routes({ registry: opts.registry }))];
  return {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    },
  };
}
