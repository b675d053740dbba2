// Plain-HTTP side port for probes and Prometheus: /healthz, /readyz, /metrics. Kept off the TLS port so
// kubelet and Prometheus need no client certificates.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  /** Names of what is not ready yet; empty when ready. */
  notReady(): string[];
}

export function startHealthServer(opts: { port: number; host?: string; registry: Registry; health: HealthSource }): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      const missing = opts.health.notReady();
      if (missing.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${missing.join(', ')}\n`);
    } else if (url === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(String(err.message)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve(server));
  });
}
