// The running reconciler: informers feed keys into the work queue, the work queue runs Reconciler.reconcile,
// leader election decides whether this replica may run them, and a periodic resync re-checks every actor.
import { AppsV1Api, CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { OperatorConfig } from '../config/schema.js';
import type { KubeClient } from '../kube/client.js';
import { runAsyncActorInformer } from '../kube/actorInformer.js';
import { runInformer, type RunningInformer } from '../kube/informer.js';
import { ACTOR_LABEL } from '../names.js';
import type { Logger } from '../observability/logger.js';
import type { Transport } from '../transports/types.js';
import { KubeEventRecorder } from './events.js';
import { LeaderElector } from './leaderElection.js';
import type { ReconcilerMetrics } from './metrics.js';
import { Reconciler } from './reconcile.js';
import { WorkQueue } from './workqueue.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  client: KubeClient;
  config: OperatorConfig;
  transports: ReadonlyMap<string, Transport>;
  runtimeScript: string | undefined;
  concurrency: number;
  identity: string;
  logger: Logger;
  metrics: ReconcilerMetrics;
  onLostLeadership: () => void;
}

/** Retry of the end queues' declaration while a broker is down: exponential, capped. */
const END_QUEUES_RETRY_MIN_MS = 1_000;
const END_QUEUES_RETRY_MAX_MS = 60_000;
/** The end queues are looked at this often (one passive check each): a broker that lost them gets them back. */
const END_QUEUES_CHECK_MS = 30_000;

const keyOf = (o: KubernetesObject, name?: string) => `${o.metadata?.namespace ?? 'default'}/${name ?? o.metadata?.name ?? ''}`;

export class Controller {
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  private readonly informers: RunningInformer[] = [];
  private actorInformer?: RunningInformer;
  private elector?: LeaderElector;
  private resyncTimer?: NodeJS.Timeout;
  private gaugeTimer?: NodeJS.Timeout;
  private endQueuesTimer?: NodeJS.Timeout;
  private endQueuesCheckTimer?: NodeJS.Timeout;
  private endQueuesBusy = false;
  private endQueuesRetryMs = END_QUEUES_RETRY_MIN_MS;
  private stopped = false;

  constructor(private readonly o: ControllerOptions) {
    this.reconciler = new Reconciler({
      client: o.client,
      config: o.config,
      transports: o.transports,
      runtimeScript: o.runtimeScript,
      logger: o.logger,
      events: new KubeEventRecorder(o.client, o.logger),
    });
    this.queue = new WorkQueue({
      concurrency: o.concurrency,
      handler: async (key) => {
        const [ns, name] = key.split('/') as [string, string];
        return this.reconciler.reconcile(ns, name);
      },
      onDone: (key, outcome, ms, error) => {
        o.metrics.reconciles.inc({ result: outcome });
        o.metrics.duration.observe(ms / 1000);
        if (outcome === 'error') o.logger.warn('reconcile failed, retrying with backoff', { actor: key, error: (error as Error)?.message ?? String(error) });
        else o.logger.debug('reconciled', { actor: key, outcome, ms: Math.round(ms) });
      },
    });
  }

  /** Names of what is not ready yet (for /readyz). */
  notReady(): string[] {
    return this.informers.filter((i) => !i.synced).map((_, idx) => ['asyncactors', 'deployments', 'statefulsets', 'pods'][idx] ?? 'informer');
  }

  /**
   * Declares the end queues now, and again with capped backoff until every transport has them. Run when this
   * replica starts leading and every END_QUEUES_CHECK_MS (a queue deleted by hand or lost by the broker comes back).
   */
  private ensureEndQueues(): void {
    // One run at a time; a scheduled retry will run anyway.
    if (this.stopped || this.endQueuesBusy || this.endQueuesTimer || !this.isLeader) return;
    this.endQueuesBusy = true;
    void this.reconciler.ensureEndQueues().then(
      () => {
        this.endQueuesBusy = false;
        this.endQueuesRetryMs = END_QUEUES_RETRY_MIN_MS;
      },
      (err: unknown) => {
        this.endQueuesBusy = false;
        if (this.stopped) return;
        const delay = this.endQueuesRetryMs;
        this.endQueuesRetryMs = Math.min(delay * 2, END_QUEUES_RETRY_MAX_MS);
        this.o.logger.warn('end queues not declared yet, retrying', { inMs: delay, error: (err as Error)?.message ?? String(err) });
        this.endQueuesTimer = setTimeout(() => {
          this.endQueuesTimer = undefined;
          this.ensureEndQueues();
        }, delay);
        this.endQueuesTimer.unref();
      },
    );
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
  }

  start(): void {
    const { kubeConfig, logger } = this.o;
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const enqueue = (o: KubernetesObject) => this.queue.add(keyOf(o));
    const enqueueOwner = (o: KubernetesObject) => {
      const actor = o.metadata?.labels?.[ACTOR_LABEL];
      if (actor) this.queue.add(keyOf(o, actor));
    };
    const selector = ACTOR_LABEL;
    this.actorInformer = runAsyncActorInformer(kubeConfig, { onUpsert: enqueue, onDelete: enqueue }, logger);
    this.informers.push(this.actorInformer);
    this.informers.push(
      runInformer({
        kubeConfig,
        name: 'deployments',
        path: '/apis/apps/v1/deployments',
        labelSelector: selector,
        list: () => apps.listDeploymentForAllNamespaces({ labelSelector: selector }),
        handlers: { onUpsert: enqueueOwner, onDelete: enqueueOwner },
        logger,
      }),
      runInformer({
        kubeConfig,
        name: 'statefulsets',
        path: '/apis/apps/v1/statefulsets',
        labelSelector: selector,
        list: () => apps.listStatefulSetForAllNamespaces({ labelSelector: selector }),
        handlers: { onUpsert: enqueueOwner, onDelete: enqueueOwner },
        logger,
      }),
      runInformer({
        kubeConfig,
        name: 'pods',
        path: '/api/v1/pods',
        labelSelector: selector,
        list: () => core.listPodForAllNamespaces({ labelSelector: selector }),
        handlers: { onUpsert: enqueueOwner, onDelete: enqueueOwner },
        logger,
      }),
    );

    // Periodic resync: a safety net for missed events; unchanged actors cost no writes.
    const period = this.o.config.reconciler.resyncPeriodSeconds * 1000;
    this.resyncTimer = setInterval(() => {
      const actors = this.actorInformer?.list() ?? [];
      logger.info('periodic resync', { actors: actors.length });
      for (const a of actors) this.queue.addAfter(keyOf(a), Math.random() * Math.min(period / 10, 60_000));
    }, period);
    this.endQueuesCheckTimer = setInterval(() => this.ensureEndQueues(), END_QUEUES_CHECK_MS);
    this.endQueuesCheckTimer.unref();
    this.gaugeTimer = setInterval(() => {
      this.o.metrics.queueDepth.set(this.queue.depth);
      this.o.metrics.inFlight.set(this.queue.inFlight);
      this.o.metrics.scheduled.set(this.queue.scheduled);
      this.o.metrics.actors.set(this.actorInformer?.list().length ?? 0);
    }, 2000);
    this.gaugeTimer.unref();

    const le = this.o.config.reconciler.leaderElection;
    if (le.enabled) {
      this.o.metrics.leader.set(0);
      this.elector = new LeaderElector({
        client: this.o.client,
        namespace: process.env.POD_NAMESPACE ?? le.leaseNamespace,
        name: le.leaseName,
        identity: this.o.identity,
        leaseDurationSeconds: le.leaseDurationSeconds,
        logger,
        onStartedLeading: () => {
          this.o.metrics.leader.set(1);
          this.queue.start();
          this.ensureEndQueues();
        },
        onStoppedLeading: () => {
          this.o.metrics.leader.set(0);
          this.queue.pause();
          this.o.onLostLeadership();
        },
      });
      this.elector.start();
    } else {
      this.o.metrics.leader.set(1);
      this.queue.start();
      this.ensureEndQueues();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.endQueuesTimer) clearTimeout(this.endQueuesTimer);
    if (this.endQueuesCheckTimer) clearInterval(this.endQueuesCheckTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    this.queue.pause();
    await this.queue.shutdown();
    await this.elector?.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all([...this.o.transports.values()].map((t) => t.close()));
  }
}
