// The HTTPS shell around the handlers: express routing, body limits, TLS 1.2+, certificate reload,
// metrics, graceful shutdown. Everything the handlers decide is in handlers.ts.
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ActorStore } from '../api/actorIndex.js';
import type { OperatorConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { BadReviewError, parseReview } from './admission.js';
import { mutateActorHandler, mutatePodHandler, validateActorHandler, type Handler } from './handlers.js';
import type { WebhookMetrics } from './metrics.js';
import { CertWatcher, type CertPaths } from './tls.js';

export const ENDPOINTS: Record<string, { name: string; handler: Handler }> = {
  '/validate/asyncactors': { name: 'validate-asyncactors', handler: validateActorHandler },
  '/mutate/asyncactors': { name: 'mutate-asyncactors', handler: mutateActorHandler },
  '/mutate/pods': { name: 'mutate-pods', handler: mutatePodHandler },
};

export interface WebhookServerOptions {
  config: OperatorConfig;
  actors: ActorStore;
  certs: CertPaths;
  port: number;
  host?: string;
  logger: Logger;
  metrics: WebhookMetrics;
  /** Largest request body; the API server sends whole pods, which can be large. */
  bodyLimit?: string;
  /** A review must be answered within this time (the API server gives up after timeoutSeconds anyway). */
  requestTimeoutMs?: number;
  certPollMs?: number;
}

export function buildApp(opts: Pick<WebhookServerOptions, 'config' | 'actors' | 'logger' | 'metrics' | 'bodyLimit'>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: opts.bodyLimit ?? '8mb', type: () => true, strict: false }));

  for (const [path, { name, handler }] of Object.entries(ENDPOINTS)) {
    app.post(path, (req: Request, res: Response) => {
      const started = process.hrtime.bigint();
      let request;
      try {
        request = parseReview(req.body);
      } catch (err) {
        if (!(err instanceof BadReviewError)) throw err;
        opts.metrics.reviews.inc({ endpoint: name, result: 'error', reason: 'bad_review' });
        res.status(400).json({ error: `bad AdmissionReview: ${err.message}` });
        return;
      }
      let out;
      try {
        out = handler(request, { config: opts.config, actors: opts.actors });
      } catch (err) {
        // A bug must never let an invalid object through: answer "denied" for this review.
        opts.logger.error('handler failed', { endpoint: name, uid: request.uid, error: (err as Error).message });
        opts.metrics.reviews.inc({ endpoint: name, result: 'error', reason: 'internal_error' });
        res.status(200).json({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: request.uid, allowed: false, status: { code: 500, message: 'internal error in the asya webhook; see its logs' } },
        });
        return;
      }
      opts.metrics.reviews.inc({ endpoint: name, result: out.result, reason: out.reason });
      if (out.reason === 'injected') opts.metrics.injections.inc({ dry_run: String(request.dryRun === true) });
      opts.metrics.latency.observe({ endpoint: name }, Number(process.hrtime.bigint() - started) / 1e9);
      const level = out.result === 'denied' ? 'info' : 'debug';
      // winston formats before it filters by level: skip the work when nobody reads it.
      if (opts.logger.isLevelEnabled(level)) opts.logger.log(level, 'admission', {
        endpoint: name,
        uid: request.uid,
        operation: request.operation,
        namespace: request.namespace,
        name: request.name,
        result: out.result,
        reason: out.reason,
        dryRun: request.dryRun === true,
      });
      sendJson(res, 200, out.review);
    });
  }

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: `unknown path; serving ${Object.keys(ENDPOINTS).join(', ')}` });
  });
  // Body-parser errors (malformed JSON, too large) and anything unexpected: a 4xx/5xx with a reason, never a crash.
  app.use((err: Error & { status?: number; type?: string; limit?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    let message = status === 500 ? 'internal error' : err.message;
    if (err.type === 'entity.too.large') message = `request body larger than the limit of ${opts.bodyLimit ?? '8mb'}`;
    if (err.type === 'entity.parse.failed') message = `malformed JSON: ${err.message}`;
    opts.metrics.reviews.inc({ endpoint: 'unknown', result: 'error', reason: err.type ?? 'internal_error' });
    if (status === 500) opts.logger.error('request failed', { error: err.message });
    res.status(status).json({ error: message });
  });
  return app;
}

/** The answer with all headers set at once, skipping what res.json() adds on the hot path (ETag, charset). */
function sendJson(res: Response, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
}

export class WebhookServer {
  private server: https.Server | undefined;
  private watcher: CertWatcher | undefined;
  private readonly sockets = new Set<Socket>();
  certLoaded = false;

  constructor(private readonly opts: WebhookServerOptions) {}

  async start(): Promise<number> {
    const { opts } = this;
    this.watcher = new CertWatcher(
      opts.certs,
      {
        onLoad: (c) => {
          // New handshakes use the new context; open connections keep theirs.
          this.server?.setSecureContext({ cert: c.cert, key: c.key });
          opts.metrics.certExpiry.set(c.notAfter.getTime() / 1000);
          opts.metrics.certReloads.inc({ result: 'success' });
          opts.logger.info('serving certificate reloaded', { fingerprint: c.fingerprint, notAfter: c.notAfter.toISOString() });
        },
        onError: (err) => {
          opts.metrics.certReloads.inc({ result: 'error' });
          opts.logger.warn('serving certificate not reloaded, keeping the previous one', { error: err.message });
        },
      },
      opts.certPollMs,
    );
    const first = this.watcher.start();
    opts.metrics.certExpiry.set(first.notAfter.getTime() / 1000);
    opts.metrics.certReloads.inc({ result: 'success' });
    this.certLoaded = true;

    const app = buildApp(opts);
    const server = https.createServer(
      {
        cert: first.cert,
        key: first.key,
        minVersion: 'TLSv1.2',
        // Slow or stuck clients must not hold a review open: the API server waits at most 30 s anyway.
        requestTimeout: opts.requestTimeoutMs ?? 15_000,
        headersTimeout: 10_000,
        keepAliveTimeout: 60_000,
      },
      app,
    );
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', () => opts.metrics.connections.inc({ result: 'success' }));
    server.on('tlsClientError', (err: Error) => {
      opts.metrics.connections.inc({ result: 'error' });
      opts.logger.debug('TLS handshake failed', { error: err.message });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets in-flight reviews finish (up to graceMs), then closes what is left. */
  async stop(graceMs = 10_000): Promise<void> {
    this.watcher?.stop();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }
}
