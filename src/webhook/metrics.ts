// Prometheus metrics of the webhook, on their own registry (so tests can create several servers).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class WebhookMetrics {
  readonly registry = new Registry();
  readonly reviews = new Counter({
    name: 'asya_webhook_admission_reviews_total',
    help: 'Admission reviews answered, by endpoint, result (allowed, patched, denied, skipped, error) and reason code.',
    labelNames: ['endpoint', 'result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'asya_webhook_admission_duration_seconds',
    help: 'Time to answer an admission review, from parsed body to response.',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly injections = new Counter({
    name: 'asya_webhook_injections_total',
    help: 'Pods injected with the sidecar, by dry run.',
    labelNames: ['dry_run'] as const,
    registers: [this.registry],
  });
  readonly cacheSize = new Gauge({ name: 'asya_webhook_actor_cache_size', help: 'AsyncActors in the informer cache.', registers: [this.registry] });
  readonly certExpiry = new Gauge({
    name: 'asya_webhook_certificate_expiry_timestamp_seconds',
    help: 'notAfter of the serving certificate, as a Unix time.',
    registers: [this.registry],
  });
  readonly certReloads = new Counter({
    name: 'asya_webhook_certificate_reloads_total',
    help: 'Serving certificate loads from disk, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly connections = new Counter({
    name: 'asya_webhook_tls_handshakes_total',
    help: 'TLS handshakes, by result: new connections (the API server reuses its connections when it can).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
