// Prometheus metrics of the reconciler, on their own registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ReconcilerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'asya_reconciler_reconciles_total',
    help: 'Reconciles of AsyncActors, by result (success, requeue, backoff, error, terminal).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'asya_reconciler_reconcile_duration_seconds',
    help: 'Time of one reconcile.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'asya_reconciler_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'asya_reconciler_workqueue_in_flight', help: 'Reconciles running now.', registers: [this.registry] });
  readonly scheduled = new Gauge({ name: 'asya_reconciler_workqueue_scheduled', help: 'Keys waiting for a backoff or requeue-after timer.', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'asya_reconciler_leader', help: '1 when this replica holds the leader lease.', registers: [this.registry] });
  readonly actors = new Gauge({ name: 'asya_reconciler_actors', help: 'AsyncActors in the informer cache.', registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
