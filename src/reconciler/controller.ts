// The running reconciler: informers keep caches of the actors and of everything they own (the reconciler reads
// those, cache.ts) and feed keys into the work queue; leader election decides whether this replica may run
// them; periodic passes re-check the queues on the brokers and every actor.
import type { AsyncActor } from '../api/schema.js';
import type { OperatorConfig } from '../config/schema.js';
import { runAsyncActorInformer } from '../kube/actorInformer.js';
import { KINDS, type KubeClient, type KubeObject, type ResourceKind } from '../kube/client.js';
import { runInformer, stripManagedFields, type RunningInformer } from '../kube/informer.js';
import type { KubeRest } from '../kube/rest.js';
import { ACTOR_KIND, ACTOR_LABEL, RUNTIME_CONFIGMAP } from '../names.js';
import type { Logger } from '../observability/logger.js';
import { pluginOf } from '../transports/registry.js';
import type { Transport } from '../transports/types.js';
import { CachedClient, slimPod } from './cache.js';
import { BackgroundEventSink, KubeEventRecorder } from './events.js';
import { LeaderElector } from './leaderElection.js';
import type { ReconcilerMetrics } from './metrics.js';
import { Reconciler } from './reconcile.js';
import { WorkQueue } from './workqueue.js';

export interface ControllerOptions {
  rest: KubeRest;
  /** Direct API access (writes, and reads of what is not cached). */
  api: KubeClient;
  config: OperatorConfig;
  transports: ReadonlyMap<string, Transport>;
  runtimeScript: string | undefined;
  concurrency: number;
  identity: string;
  logger: Logger;
  metrics: ReconcilerMetrics;
}

/** Retry of the end queues' declaration while a broker is down: exponential, capped. */
const END_QUEUES_RETRY_MIN_MS = 1_000;
const END_QUEUES_RETRY_MAX_MS = 60_000;
/** The end queues are looked at this often (one passive check each): a broker that lost them gets them back. */
const END_QUEUES_CHECK_MS = 30_000;

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? 'default'}/${name}`;

/** The actor an owned object belongs to: its controller owner reference, else its asya.sh/actor label. */
function ownerActor(o: KubeObject): string | undefined {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.kind === ACTOR_KIND && r.controller);
  return (ref?.name as string | undefined) ?? o.metadata.labels?.[ACTOR_LABEL];
}

export class Controller {
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  readonly client: CachedClient;
  private readonly informers: RunningInformer[] = [];
  private actorInformer?: RunningInformer<AsyncActor & KubeObject>;
  private elector?: LeaderElector;
  private resyncTimer?: NodeJS.Timeout;
  private queueCheckTimer?: NodeJS.Timeout;
  private gaugeTimer?: NodeJS.Timeout;
  private endQueuesTimer?: NodeJS.Timeout;
  private endQueuesCheckTimer?: NodeJS.Timeout;
  private endQueuesBusy = false;
  private endQueuesRetryMs = END_QUEUES_RETRY_MIN_MS;
  private stopped = false;

  private readonly events: BackgroundEventSink;

  constructor(private readonly o: ControllerOptions) {
    this.client = new CachedClient(o.api);
    this.events = new BackgroundEventSink(new KubeEventRecorder(o.api, o.logger));
    this.reconciler = new Reconciler({
      client: this.client,
      config: o.config,
      transports: o.transports,
      runtimeScript: o.runtimeScript,
      logger: o.logger,
      events: this.events,
      actors: () => this.actorInformer?.list() ?? [],
      fresh: o.api,
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
        else if (outcome === 'terminal') o.logger.warn('reconcile failed, not retrying until the actor changes', { actor: key, error: (error as Error)?.message ?? String(error) });
        else o.logger.debug('reconciled', { actor: key, outcome, ms: Math.round(ms) });
      },
    });
  }

  /** Names of what is not ready yet (for /readyz): the caches the reconciler cannot work without. */
  notReady(): string[] {
    return this.informers.filter((i) => !i.synced && !OPTIONAL_CACHES.has(i.name)).map((i) => i.name);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
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

  /** An informer on objects of `kind` that we own, feeding the store and the actors they belong to. */
  private owned(name: string, kind: ResourceKind, opts: { labelSelector?: string; fieldSelector?: string; transform?: (o: KubeObject) => KubeObject; enqueue?: (o: KubeObject) => void } = {}): RunningInformer {
    const enqueue = opts.enqueue ?? ((obj: KubeObject) => {
      const actor = ownerActor(obj);
      if (actor) this.queue.add(keyOf(obj.metadata.namespace, actor));
    });
    const informer = runInformer({
      name,
      kind,
      rest: this.o.rest,
      labelSelector: opts.labelSelector ?? ACTOR_LABEL,
      ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector, labelSelector: undefined } : {}),
      transform: opts.transform ?? stripManagedFields,
      handlers: { onUpsert: enqueue, onDelete: enqueue },
      logger: this.o.logger,
    });
    this.client.register(kind, informer);
    this.informers.push(informer);
    return informer;
  }

  start(): void {
    const { logger } = this.o;
    const enqueueActor = (a: KubeObject) => this.queue.add(keyOf(a.metadata.namespace, a.metadata.name ?? ''));
    this.actorInformer = runAsyncActorInformer(this.o.rest, { onUpsert: enqueueActor, onDelete: enqueueActor }, logger);
    this.client.register(KINDS.actor, this.actorInformer as unknown as RunningInformer);
    this.informers.push(this.actorInformer as unknown as RunningInformer);
    this.owned('deployments', KINDS.deployment);
    this.owned('statefulsets', KINDS.statefulSet);
    this.owned('pods', KINDS.pod, { transform: slimPod });
    this.owned('scaledobjects', KINDS.scaledObject);
    this.owned('triggerauthentications', KINDS.triggerAuthentication);
    // KEDA copies the ScaledObject's labels (asya.sh/actor) to its HPA: DESIRED follows the HPA at once.
    this.owned('horizontalpodautoscalers', KINDS.hpa, { enqueue: (h) => h.metadata.labels?.[ACTOR_LABEL] && this.queue.add(keyOf(h.metadata.namespace, h.metadata.labels[ACTOR_LABEL])) });
    // ServiceAccounts are ours only with IRSA (and the chart grants them only then).
    if (irsaConfigured(this.o.config)) this.owned('serviceaccounts', KINDS.serviceAccount);
    // The runtime ConfigMap is shared by the actors of a namespace: a change concerns all of them.
    this.owned('configmaps', KINDS.configMap, {
      fieldSelector: `metadata.name=${RUNTIME_CONFIGMAP}`,
      enqueue: (cm) => {
        for (const a of this.actorInformer?.list() ?? []) if (a.metadata.namespace === cm.metadata.namespace) enqueueActor(a);
      },
    });

    // Periodic resync: a safety net for missed events; with the caches an unchanged actor costs no API call.
    const period = this.o.config.reconciler.resyncPeriodSeconds * 1000;
    this.resyncTimer = setInterval(() => {
      const actors = this.actorInformer?.list() ?? [];
      logger.info('periodic resync', { actors: actors.length });
      for (const a of actors) this.queue.addAfter(keyOf(a.metadata.namespace, a.metadata.name ?? ''), Math.random() * Math.min(period / 10, 60_000));
    }, period);
    // Queues deleted behind our back: a passive check per actor on a period of its own, far shorter than the
    // resync; a missing queue sends its actor through a reconcile (which declares it again and says so).
    const queueCheck = this.o.config.reconciler.queueCheckSeconds * 1000;
    if (queueCheck > 0) {
      this.queueCheckTimer = setInterval(() => {
        if (!this.isLeader) return;
        void this.reconciler.missingQueues(this.actorInformer?.list() ?? []).then(
          (missing) => {
            for (const key of missing) this.queue.add(key);
          },
          (err: unknown) => logger.warn('queue check failed', { error: (err as Error).message }),
        );
      }, queueCheck);
      this.queueCheckTimer.unref();
    }
    this.endQueuesCheckTimer = setInterval(() => this.ensureEndQueues(), END_QUEUES_CHECK_MS);
    this.endQueuesCheckTimer.unref();
    this.gaugeTimer = setInterval(() => {
      this.o.metrics.queueDepth.set(this.queue.depth);
      this.o.metrics.inFlight.set(this.queue.inFlight);
      this.o.metrics.scheduled.set(this.queue.scheduled);
      this.o.metrics.actors.set(this.actorInformer?.list().length ?? 0);
    }, 2000);
    this.gaugeTimer.unref();

    // Nothing is reconciled before the caches it reads are filled: an empty cache would look like "create all".
    const synced = Promise.all(this.informers.filter((i) => !OPTIONAL_CACHES.has(i.name)).map((i) => i.ready));
    const le = this.o.config.reconciler.leaderElection;
    if (le.enabled) {
      this.o.metrics.leader.set(0);
      this.elector = new LeaderElector({
        client: this.o.api,
        namespace: process.env.POD_NAMESPACE ?? le.leaseNamespace,
        name: le.leaseName,
        identity: this.o.identity,
        leaseDurationSeconds: le.leaseDurationSeconds,
        logger,
        onStartedLeading: () => {
          this.o.metrics.leader.set(1);
          void synced.then(() => {
            if (!this.isLeader || this.stopped) return;
            this.queue.start();
            this.ensureEndQueues();
          });
        },
        onStoppedLeading: () => {
          // A short outage of the API server (an upgrade) must cost nothing: stop reconciling, keep the caches
          // and the queue, and campaign again; another replica may lead meanwhile.
          this.o.metrics.leader.set(0);
          this.queue.pause();
          logger.warn('not leading: reconciling paused until the lease is held again');
        },
      });
      this.elector.start();
    } else {
      this.o.metrics.leader.set(1);
      void synced.then(() => {
        if (this.stopped) return;
        this.queue.start();
        this.ensureEndQueues();
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.endQueuesTimer]) if (t) clearTimeout(t);
    for (const t of [this.endQueuesCheckTimer, this.resyncTimer, this.queueCheckTimer, this.gaugeTimer]) if (t) clearInterval(t);
    this.queue.pause();
    await this.queue.shutdown();
    await this.events.flush();
    await this.elector?.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all([...this.o.transports.values()].map((t) => t.close()));
  }
}

/** Caches of optional APIs (KEDA may not be installed): the reconciler reads through to the API without them. */
const OPTIONAL_CACHES = new Set(['scaledobjects', 'triggerauthentications']);

/** Whether some transport gives actor pods an identity of their own (IRSA), which the reconciler then manages. */
function irsaConfigured(config: OperatorConfig): boolean {
  return Object.values(config.transports).some((t) => t.enabled && !!pluginOf(t).podIdentity?.(t.config, 'any'));
}
