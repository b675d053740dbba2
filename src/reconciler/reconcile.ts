// One reconcile of one AsyncActor: read the world, compute the desired state (desired.ts, status.ts), write
// only what differs, and say when to come back. Every step is idempotent. Errors the API server may fix by
// itself (409, 5xx) are thrown for the work queue's backoff; broker faults become conditions plus backoff.
import type { AsyncActor, AsyncActorStatus, DefaultedActor } from '../api/schema.js';
import { validateActor } from '../api/validate.js';
import { findTransport } from '../config/load.js';
import type { OperatorConfig, TransportConfig } from '../config/schema.js';
import { KINDS, KubeApiError, isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject, type ResourceKind } from '../kube/client.js';
import { firstDrift } from './compare.js';
import {
  END_ACTORS,
  END_QUEUES,
  FINALIZER,
  IMMUTABLE_HASH_ANNOTATION,
  INJECTION_STATUS_ANNOTATION,
  POD_WEBHOOK_NAME,
  RUNTIME_CONFIGMAP,
  SKIP_QUEUE_DELETION_ANNOTATION,
  SPEC_HASH_ANNOTATION,
  kedaHpaNameFor,
  queueNameFor,
  triggerAuthNameFor,
} from '../names.js';
import type { Logger } from '../observability/logger.js';
import { pluginOf } from '../transports/registry.js';
import { otherWorkloadKinds, workloadKind } from '../workloads/index.js';
import { TransportError, isTransportError, type QueueSpec, type Transport } from '../transports/types.js';
import { desiredRuntimeConfigMap, desiredScaling, desiredServiceAccount, desiredWorkload, hashOf, stableStringify } from './desired.js';
import type { EventSink, EventType } from './events.js';
import { CONDITION, computeStatus, countPods, describeFailures, type ConditionInput, type PodLike } from './status.js';

export interface ReconcileResult {
  /** Come back after this long (a known wait). */
  requeueAfterMs?: number;
  /** Come back with backoff: something outside our control failed (the broker), already reported in status. */
  backoff?: boolean;
}

export interface ReconcilerDeps {
  client: KubeClient;
  config: OperatorConfig;
  transports: ReadonlyMap<string, Transport>;
  /**
   * Content of the runtime script for the asya-runtime ConfigMap; undefined when config runtime.scriptPath could
   * not be read: everything else is reconciled, the ConfigMap step is skipped and each actor says so.
   */
  runtimeScript: string | undefined;
  logger: Logger;
  events?: EventSink;
  clock?: () => Date;
  /** How long the answer "are the KEDA CRDs served" is trusted. */
  kedaCheckTtlMs?: number;
  /**
   * Every actor the reconciler knows of (its informer's cache), for the rule that one queue has one owner.
   * Without it (tests of one actor) no collision is looked for.
   */
  actors?: () => ReadonlyArray<AsyncActor & KubeObject>;
  /** Reads that bypass a cache that may be behind (after AlreadyExists); default: client. */
  fresh?: KubeClient;
}

/** Re-check for KEDA this often while its CRDs are missing (it may be installed later). */
const KEDA_MISSING_RECHECK_MS = 5 * 60_000;
/** KEDA creates the HPA shortly after the ScaledObject: look again soon while the ScaledObject is young. */
const HPA_WAIT_MS = 5_000;
const HPA_WAIT_WINDOW_MS = 120_000;
/** A ScaledObject KEDA has not reported on after that window (KEDA busy or absent): look again this often. */
const KEDA_PENDING_RECHECK_MS = 60_000;
/** Waiting for an object we deleted to go away before re-creating it. */
const RECREATE_WAIT_MS = 2_000;
/** Pods admitted without the sidecar: look again this often while the pod webhook is not registered. */
const RECYCLE_RECHECK_MS = 15_000;
/** At most one recycled pod per actor per this long, so a rollout of replacements is gradual. */
const RECYCLE_ACTOR_INTERVAL_MS = 10_000;
/** And at most this many recycled pods per minute across all actors. */
const RECYCLE_GLOBAL_PER_MINUTE = 10;
/** How long the answer "is the pod webhook registered" is trusted. */
const WEBHOOK_CHECK_TTL_MS = 5_000;
/** An actor whose queue another actor owns looks again this often (until that actor is gone or renamed). */
const QUEUE_OWNER_RECHECK_MS = 60_000;
/** Passive queue checks run this many at a time. */
const QUEUE_CHECK_PARALLEL = 8;

function queueTakenMessage(actor: KubeObject, owner: KubeObject): string {
  const queue = queueNameFor(actor.metadata.name ?? '');
  return `queue ${queue} belongs to actor ${owner.metadata.namespace}/${owner.metadata.name} (queue names leave out the namespace); rename this actor: nothing is done with the queue until then`;
}


function ownedBy(obj: KubeObject, uid: string | undefined): boolean {
  return !!uid && (obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Errors the work queue should retry with backoff rather than report as a condition. */
function isRetriable(err: unknown): boolean {
  return err instanceof KubeApiError ? err.status === 409 || err.status === 429 || err.status >= 500 : !(err instanceof TransportError);
}

interface QueueState {
  ready: boolean;
  reason: string;
  message: string;
  stats?: { queued: number; processing?: number };
  url?: string;
  retryAfterMs?: number;
}

export class Reconciler {
  /** Queues declared by this process, with the intent they were declared for: re-declared only on change. */
  private readonly ensured = new Map<string, { hash: string; url: string }>();
  /** End queues declared by this process, as <transport>/<queue>. */
  private readonly endQueuesDeclared = new Set<string>();
  private kedaServed?: { value: boolean; at: number };
  private podWebhook?: { value: boolean; at: number };
  /** Actor uids already told (Event) that the runtime script is missing. */
  private readonly toldRuntimeMissing = new Set<string>();
  /** Last recycle per actor, and recent recycles overall (rate limits). */
  private readonly lastRecycle = new Map<string, number>();
  private recycles: number[] = [];
  private readonly clock: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { client } = this.deps;
    const raw = await client.get<AsyncActor & KubeObject>(KINDS.actor, namespace, name);
    const key = `${namespace}/${name}`;
    if (!raw) {
      this.ensured.delete(key);
      this.validated.delete(key);
      return {};
    }
    if (raw.metadata.deletionTimestamp) return this.finalize(raw);

    let actor = raw;
    if (!(actor.metadata.finalizers ?? []).includes(FINALIZER)) {
      // Before anything external exists, so that deleting the actor always cleans up after it.
      actor = await client.update(KINDS.actor, { ...actor, metadata: { ...actor.metadata, finalizers: [...(actor.metadata.finalizers ?? []), FINALIZER] } });
    }

    const validation = this.validate(actor);
    const defaulted: DefaultedActor = { ...validation.actor, metadata: actor.metadata };
    const found = findTransport(this.deps.config, String(defaulted.spec?.transport ?? ''));
    if (!found.ok || validation.errors.length > 0) {
      const message = !found.ok ? found.message : validation.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      return this.writeConfigError(actor, !found.ok ? 'TransportNotConfigured' : 'InvalidSpec', message);
    }
    const transportConfig = found.transport;
    const transport = this.deps.transports.get(transportConfig.name);
    const spec: QueueSpec = { name: queueNameFor(name), actorName: name, actorNamespace: namespace };

    // 1. Queue, unless another actor owns it (same name in another namespace on the same transport).
    const owner = this.queueOwner(actor, transportConfig.name);
    if (owner) await this.tellQueueTaken(actor, owner);
    const queue: QueueState = owner
      ? { ready: false, reason: 'QueueOwnedByAnotherActor', message: queueTakenMessage(actor, owner) }
      : transport
        ? await this.ensureQueue(key, transport, transportConfig, spec, actor)
        : { ready: false, reason: 'TransportNotConfigured', message: `no client for transport ${transportConfig.name}` };

    let workloadCond: ConditionInput = { type: CONDITION.workload, status: 'Unknown', reason: 'WaitingForQueue', message: 'the workload is created once the queue exists' };
    let scalingCond: ConditionInput;
    let requeueAfterMs: number | undefined = queue.retryAfterMs;
    let desiredReplicas: number | undefined;
    let scaledObjectRef: AsyncActorStatus['scaledObjectRef'];
    const kind = defaulted.spec.workload.kind;
    const kindRef = workloadKind(kind).resource;

    if (queue.ready) {
      // 2. ServiceAccount (SQS with IRSA) and the runtime ConfigMap.
      await this.ensureServiceAccount(defaulted, transportConfig);
      if (this.deps.runtimeScript !== undefined) await this.ensureRuntimeConfigMap(namespace, this.deps.runtimeScript);
      else await this.tellRuntimeMissing(actor);
      // 3. Workload.
      const w = await this.ensureWorkload(defaulted, transportConfig);
      workloadCond = w.condition;
      if (w.requeueAfterMs !== undefined) requeueAfterMs = minDefined(requeueAfterMs, w.requeueAfterMs);
    }

    const workload = await client.get<KubeObject>(kindRef, namespace, name);
    const workloadOurs = !!workload && ownedBy(workload, actor.metadata.uid);
    const pods = workloadOurs ? await client.list<KubeObject & PodLike>(KINDS.pod, namespace, { labelSelector: { 'asya.sh/actor': name } }) : [];
    if (workloadOurs) {
      const recheck = await this.recycleUninjected(defaulted, pods);
      if (recheck !== undefined) requeueAfterMs = minDefined(requeueAfterMs, recheck);
    }
    const counts = countPods(pods);
    const wspec = (workload?.spec ?? {}) as { replicas?: number };
    const wstatus = (workload?.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; replicas?: number };
    const specReplicas = wspec.replicas ?? 1;

    // 4. Scaling.
    if (!defaulted.spec.scaling.enabled) {
      await this.deleteScaling(defaulted);
      scalingCond = { type: CONDITION.scaling, status: 'True', reason: 'ScalingDisabled', message: `replicas fixed at ${defaulted.spec.workload.replicas} (spec.workload.replicas)` };
      desiredReplicas = defaulted.spec.workload.replicas;
    } else if (!(await this.kedaIsServed())) {
      scalingCond = {
        type: CONDITION.scaling,
        status: 'False',
        reason: 'KEDANotInstalled',
        message: 'the KEDA CRDs (scaledobjects.keda.sh) are not installed: the workload keeps its current replica count; install KEDA to scale on queue depth',
      };
      requeueAfterMs = minDefined(requeueAfterMs, KEDA_MISSING_RECHECK_MS);
      if (workloadOurs) desiredReplicas = specReplicas;
    } else if (!queue.ready || !workloadOurs) {
      scalingCond = { type: CONDITION.scaling, status: 'Unknown', reason: 'WaitingForWorkload', message: 'the ScaledObject is created once the queue and the workload exist' };
    } else {
      const s = await this.ensureScaling(defaulted, transportConfig, queue.url);
      scalingCond = s.condition;
      scaledObjectRef = { name, namespace };
      desiredReplicas = s.desiredReplicas ?? specReplicas;
      if (s.requeueAfterMs !== undefined) requeueAfterMs = minDefined(requeueAfterMs, s.requeueAfterMs);
    }

    // 5. Workload readiness from the pods, and from the workload when it cannot even create them (the API
    // server refuses the pods: a quota, a policy, an invalid field the pod admission finds).
    const replicaFailure = ((workload?.status as { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> } | undefined)?.conditions ?? []).find(
      (c) => c.type === 'ReplicaFailure' && c.status === 'True',
    );
    if (queue.ready && workloadCond.status === 'True' && workloadOurs && replicaFailure) {
      workloadCond = { type: CONDITION.workload, status: 'False', reason: replicaFailure.reason || 'FailedCreate', message: `${kind} ${name} cannot create pods: ${replicaFailure.message ?? ''}`.trim() };
    } else if (queue.ready && workloadCond.status === 'True') {
      if (counts.failing > 0) {
        workloadCond = { type: CONDITION.workload, status: 'False', reason: 'PodsFailing', message: describeFailures(counts.failures) };
      } else {
        workloadCond = {
          type: CONDITION.workload,
          status: 'True',
          reason: specReplicas === 0 ? 'ScaledToZero' : 'WorkloadReady',
          message: `${kind} ${name}: ${counts.running}/${specReplicas} pods ready${this.deps.runtimeScript === undefined ? `; ${this.runtimeMissingMessage()}` : ''}`,
        };
      }
    }

    const transportCond: ConditionInput = { type: CONDITION.transport, status: queue.ready ? 'True' : 'False', reason: queue.reason, message: queue.message };
    const status = computeStatus({
      previous: actor.status,
      generation: actor.metadata.generation,
      now: this.clock().toISOString(),
      conditions: [transportCond, workloadCond, scalingCond],
      facts: {
        deleting: false,
        configError: false,
        transportReady: queue.ready,
        workloadError: workloadCond.status === 'False' && workloadCond.reason !== 'PodsFailing',
        workloadExists: workloadOurs,
        rollingOut: workloadOurs && ((wstatus.observedGeneration ?? 0) < (workload?.metadata.generation ?? 0) || (wstatus.updatedReplicas ?? 0) < (wstatus.replicas ?? 0)),
        specReplicas,
        scalingEnabled: defaulted.spec.scaling.enabled,
        scalingReady: scalingCond.status === 'True',
        pods: counts,
      },
      ...(desiredReplicas !== undefined ? { desiredReplicas } : {}),
      ...(queue.stats ? { queue: queue.stats } : {}),
      ...(workloadOurs ? { workloadRef: { apiVersion: 'apps/v1', kind, name, namespace } } : {}),
      ...(scaledObjectRef ? { scaledObjectRef } : {}),
    });
    await this.writeStatus(actor, status);
    // A queue owned by another actor waits for that actor to go (its deletion enqueues nothing here: look again).
    if (owner) return { requeueAfterMs: QUEUE_OWNER_RECHECK_MS };
    if (!queue.ready && queue.retryAfterMs === undefined) return { backoff: true, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  // ---- validation, once per generation ----

  private readonly validated = new Map<string, { version: string; result: ReturnType<typeof validateActor> }>();

  /** The stored actor is its own old version: rules that ratchet on update (socket.maxSize) pass what is stored. */
  private validate(actor: AsyncActor & KubeObject): ReturnType<typeof validateActor> {
    const key = `${actor.metadata.namespace}/${actor.metadata.name}`;
    const version = `${actor.metadata.uid}/${actor.metadata.generation}`;
    const memo = this.validated.get(key);
    if (memo && actor.metadata.generation !== undefined && memo.version === version) return memo.result;
    const result = validateActor(actor, { config: this.deps.config, oldActor: actor });
    this.validated.set(key, { version, result });
    return result;
  }

  // ---- one queue, one owner ----

  /**
   * The actor that owns this actor's queue when it is not this one: queue names leave out the namespace, so two
   * actors of one name in two namespaces on one transport would share a queue (the webhook refuses the second
   * from its cache, which can be behind). The first created keeps it; ties go to the namespace first in order.
   */
  private queueOwner(actor: AsyncActor & KubeObject, transport: string): (AsyncActor & KubeObject) | undefined {
    const all = this.deps.actors?.() ?? [];
    const name = actor.metadata.name;
    const rank = (a: KubeObject) => `${a.metadata.creationTimestamp ?? ''}\u0000${a.metadata.namespace ?? ''}`;
    let first: (AsyncActor & KubeObject) | undefined;
    for (const other of all) {
      if (other.metadata.name !== name || other.spec?.transport !== transport) continue;
      if (!first || rank(other) < rank(first)) first = other;
    }
    return first && first.metadata.namespace !== actor.metadata.namespace ? first : undefined;
  }

  private readonly toldQueueTaken = new Set<string>();

  private async tellQueueTaken(actor: KubeObject, owner: KubeObject): Promise<void> {
    const key = `${actor.metadata.uid}/${owner.metadata.uid}`;
    if (this.toldQueueTaken.has(key)) return;
    this.toldQueueTaken.add(key);
    await this.event(actor, 'Warning', 'QueueOwnedByAnotherActor', queueTakenMessage(actor, owner));
  }

  // ---- queues deleted behind our back ----

  /**
   * Keys of the actors whose queue, declared by this process, is gone from the broker: a passive check each,
   * a few at a time. Their reconcile declares the queue again and says so.
   */
  async missingQueues(actors: ReadonlyArray<AsyncActor & KubeObject>): Promise<string[]> {
    const missing: string[] = [];
    const todo = actors.filter((a) => !a.metadata.deletionTimestamp && this.ensured.has(`${a.metadata.namespace}/${a.metadata.name}`));
    const check = async (a: AsyncActor & KubeObject): Promise<void> => {
      const ns = a.metadata.namespace ?? '';
      const name = a.metadata.name ?? '';
      const found = findTransport(this.deps.config, String(a.spec?.transport ?? ''));
      const transport = found.ok ? this.deps.transports.get(found.transport.name) : undefined;
      if (!transport) return;
      try {
        if (!(await transport.queueExists({ name: queueNameFor(name), actorName: name, actorNamespace: ns }))) missing.push(`${ns}/${name}`);
      } catch {
        // A broker that cannot be asked is the reconcile's business (TransportReady), not this check's.
      }
    };
    for (let i = 0; i < todo.length; i += QUEUE_CHECK_PARALLEL) await Promise.all(todo.slice(i, i + QUEUE_CHECK_PARALLEL).map(check));
    return missing;
  }

  // ---- queue ----

  private async ensureQueue(key: string, transport: Transport, tc: TransportConfig, spec: QueueSpec, actor: KubeObject): Promise<QueueState> {
    const intent = hashOf({ transport: tc.name, type: tc.type, config: tc.config, queue: spec });
    const known = this.ensured.get(key);
    try {
      if (known && known.hash === intent) {
        // Idle path: one passive check that also gives the depth.
        const stats = await transport.stats(spec);
        if (stats) return { ready: true, reason: 'QueueReady', message: `queue ${spec.name} exists`, stats, url: known.url };
        this.deps.logger.warn('queue disappeared, declaring it again', { queue: spec.name, transport: tc.name });
        await this.event(actor, 'Warning', 'QueueRecreated', `queue ${spec.name} was gone from ${tc.name} (deleted outside the reconciler, or the broker lost it); declared again: messages sent meanwhile were dropped`);
      }
      const info = await transport.ensureQueue(spec);
      this.ensured.set(key, { hash: intent, url: info.url });
      const stats = await transport.stats(spec);
      return { ready: true, reason: 'QueueReady', message: `queue ${spec.name} declared on ${tc.name}`, url: info.url, ...(stats ? { stats } : {}) };
    } catch (err) {
      this.ensured.delete(key);
      if (!isTransportError(err)) throw err;
      return { ready: false, reason: err.reason, message: err.message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
    }
  }

  // ---- end queues ----

  /**
   * Declares asya-happy-end and asya-error-end on every enabled transport, whatever actors exist: a sidecar whose
   * target queue is missing requeues the message at once, forever (REFERENCE "What the real sidecar and runtime
   * need"). Idempotent; throws the first broker error after trying every transport.
   */
  async ensureEndQueues(): Promise<void> {
    let first: unknown;
    for (const transport of this.deps.transports.values()) {
      for (const actorName of END_ACTORS) {
        const spec: QueueSpec = { name: queueNameFor(actorName), actorName, actorNamespace: '' };
        const key = `${transport.name}/${spec.name}`;
        try {
          // Declared in full once per process (exchange binding included); after that a passive check, and a
          // declaration only when the queue is gone (a broker that lost its state, a queue deleted by hand).
          if (this.endQueuesDeclared.has(key) && (await transport.queueExists(spec))) continue;
          if (this.endQueuesDeclared.has(key)) this.deps.logger.warn('end queue disappeared, declaring it again', { transport: transport.name, queue: spec.name });
          await transport.ensureQueue(spec);
          this.endQueuesDeclared.add(key);
        } catch (err) {
          this.deps.logger.warn('cannot declare an end queue', { transport: transport.name, queue: queueNameFor(actorName), error: errMessage(err) });
          first ??= err;
        }
      }
    }
    if (first !== undefined) throw first;
  }

  // ---- runtime script missing ----

  private runtimeMissingMessage(): string {
    return `runtime script ${this.deps.config.runtime.scriptPath} is missing in the reconciler: ConfigMap ${RUNTIME_CONFIGMAP} is not managed (set runtime.source)`;
  }

  /** Once per actor and process: an Event (a condition message says it too, without extra writes). */
  private async tellRuntimeMissing(actor: KubeObject): Promise<void> {
    const uid = actor.metadata.uid ?? `${actor.metadata.namespace}/${actor.metadata.name}`;
    if (this.toldRuntimeMissing.has(uid)) return;
    this.toldRuntimeMissing.add(uid);
    await this.event(actor, 'Warning', 'RuntimeScriptMissing', this.runtimeMissingMessage());
  }

  // ---- pods admitted without the sidecar ----

  /**
   * Pods of this actor's workload stored without the injection annotation were admitted while the pod webhook
   * was not registered (failurePolicy only covers a registered webhook). Once it is registered again, delete
   * them one at a time (rate-limited) so that their controller re-creates them through the webhook.
   * Returns when to look again, or undefined when there is nothing to do.
   */
  private async recycleUninjected(actor: DefaultedActor, pods: Array<KubeObject & PodLike>): Promise<number | undefined> {
    const ns = actor.metadata.namespace ?? '';
    if (this.deps.config.webhook.excludedNamespaces.includes(ns)) return undefined;
    const stale = pods.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        !p.metadata.annotations?.[INJECTION_STATUS_ANNOTATION] &&
        (p.metadata.ownerReferences ?? []).some((r) => r.controller),
    );
    if (stale.length === 0) return undefined;
    if (!(await this.podWebhookRegistered())) {
      this.deps.logger.debug('pods without the sidecar wait for the pod webhook to be registered', { actor: `${ns}/${actor.metadata.name}`, pods: stale.length });
      return RECYCLE_RECHECK_MS;
    }
    const now = Date.now();
    const key = `${ns}/${actor.metadata.name}`;
    this.recycles = this.recycles.filter((t) => now - t < 60_000);
    const last = this.lastRecycle.get(key) ?? 0;
    if (now - last < RECYCLE_ACTOR_INTERVAL_MS) return RECYCLE_ACTOR_INTERVAL_MS - (now - last);
    if (this.recycles.length >= RECYCLE_GLOBAL_PER_MINUTE) return 60_000 - (now - (this.recycles[0] ?? now));
    const pod = stale[0]!;
    this.lastRecycle.set(key, now);
    this.recycles.push(now);
    await this.deleteIgnoringMissing(KINDS.pod, pod);
    this.deps.logger.warn('recycled a pod admitted without the sidecar', { actor: key, pod: pod.metadata.name });
    await this.event(
      actor,
      'Warning',
      'PodRecycled',
      `deleted pod ${pod.metadata.name ?? ''}: it was admitted without the asya-sidecar (the pod webhook was not registered); its controller re-creates it through the webhook`,
    );
    return stale.length > 1 ? RECYCLE_ACTOR_INTERVAL_MS : undefined;
  }

  private async podWebhookRegistered(): Promise<boolean> {
    const now = Date.now();
    if (this.podWebhook && now - this.podWebhook.at < WEBHOOK_CHECK_TTL_MS) return this.podWebhook.value;
    const configs = await this.deps.client.list<KubeObject & { webhooks?: Array<{ name?: string }> }>(KINDS.mutatingWebhookConfiguration, undefined);
    const value = configs.some((c) => (c.webhooks ?? []).some((w) => w.name === POD_WEBHOOK_NAME));
    this.podWebhook = { value, at: now };
    return value;
  }

  // ---- owned objects ----

  /**
   * Creates the object, or brings the live one back to what we want: written when our intent changed (its
   * spec-hash annotation) or when the live object drifted from it (compare.ts: someone else's edit), never
   * because of the API server's defaults. An object that exists although the cache does not have it yet
   * (AlreadyExists) is read from the API and taken from there.
   */
  private async apply(kind: ResourceKind, desired: KubeObject, ownerUid: string | undefined, actor?: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<{ object: KubeObject; changed: boolean }> {
    const { client } = this.deps;
    const ns = desired.metadata.namespace ?? '';
    const name = desired.metadata.name ?? '';
    let existing = await client.get<KubeObject>(kind, ns, name);
    if (!existing) {
      try {
        return { object: await client.create(kind, desired), changed: true };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        existing = await (this.deps.fresh ?? client).get<KubeObject>(kind, ns, name);
        if (!existing) throw err;
      }
    }
    if (ownerUid && !ownedBy(existing, ownerUid)) {
      throw new KubeApiError(409, `${kind.kind} ${ns}/${name} exists and is not owned by this actor; rename or delete it`, 'NotOwned');
    }
    const wanted = desired.metadata.annotations?.[SPEC_HASH_ANNOTATION];
    const sameIntent = !!wanted && existing.metadata.annotations?.[SPEC_HASH_ANNOTATION] === wanted;
    const drift = firstDrift(comparable(desired), existing);
    if (sameIntent && (drift === undefined || this.unconvergeable.has(`${existing.metadata.uid}/${wanted}`))) return { object: existing, changed: false };
    const next: KubeObject = {
      ...existing,
      ...Object.fromEntries(Object.entries(desired).filter(([k]) => k !== 'metadata' && k !== 'status')),
      metadata: {
        ...existing.metadata,
        labels: { ...(existing.metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) },
        annotations: { ...(existing.metadata.annotations ?? {}), ...(desired.metadata.annotations ?? {}) },
        ...(desired.metadata.ownerReferences ? { ownerReferences: desired.metadata.ownerReferences } : {}),
      },
    };
    const object = await client.update(kind, next);
    if (sameIntent) await this.tellDriftRepaired(actor, kind, name, drift ?? '/');
    this.checkConverged(kind, desired, object, wanted);
    return { object, changed: true };
  }

  /** Live objects changed by someone else and restored, as a Warning Event on the actor. */
  private async tellDriftRepaired(actor: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'> | undefined, kind: ResourceKind, name: string, path: string): Promise<void> {
    this.deps.logger.warn('restored an object changed outside the reconciler', { kind: kind.kind, name, field: path });
    if (actor) await this.event(actor, 'Warning', 'DriftRepaired', `${kind.kind} ${name} was changed outside the reconciler (${path}); restored`);
  }

  /**
   * Objects hashes of which a write does not converge (a mutating admission webhook changes what we write):
   * left alone until our intent changes, instead of a write per reconcile.
   */
  private readonly unconvergeable = new Set<string>();

  private checkConverged(kind: ResourceKind, desired: KubeObject, written: KubeObject, wanted: string | undefined): void {
    const drift = firstDrift(comparable(desired), written);
    if (drift === undefined || !wanted) return;
    this.unconvergeable.add(`${written.metadata.uid}/${wanted}`);
    this.deps.logger.warn('the API server changes what the reconciler writes (a mutating admission webhook?): not rewriting it until the actor changes', {
      kind: kind.kind,
      name: written.metadata.name,
      field: drift,
    });
  }

  /**
   * ServiceAccount asya-<name> for SQS actors with IRSA. Nothing is looked up otherwise: without IRSA the
   * reconciler has no ServiceAccount rights (least privilege), and one left from an earlier configuration is
   * owned by its actor and goes with it.
   */
  private async ensureServiceAccount(actor: DefaultedActor, tc: TransportConfig): Promise<void> {
    const desired = desiredServiceAccount(actor, tc);
    if (desired) await this.apply(KINDS.serviceAccount, desired, actor.metadata.uid, actor);
  }

  private async ensureRuntimeConfigMap(namespace: string, script: string): Promise<void> {
    const { client } = this.deps;
    const desired = desiredRuntimeConfigMap(namespace, script);
    const existing = await client.get<KubeObject>(KINDS.configMap, namespace, RUNTIME_CONFIGMAP);
    if (!existing) {
      try {
        await client.create(KINDS.configMap, desired);
      } catch (err) {
        // Another actor of the namespace created it meanwhile.
        if (!(err instanceof KubeApiError && err.reason === 'AlreadyExists')) throw err;
      }
      return;
    }
    if (stableStringify(existing.data) === stableStringify(desired.data)) return;
    await client.update(KINDS.configMap, { ...existing, data: desired.data });
  }

  private async ensureWorkload(actor: DefaultedActor, tc: TransportConfig): Promise<{ condition: ConditionInput; requeueAfterMs?: number }> {
    const { client } = this.deps;
    const ns = actor.metadata.namespace ?? '';
    const name = actor.metadata.name ?? '';
    const uid = actor.metadata.uid;
    const desired = desiredWorkload(actor, tc);
    const module = workloadKind(desired.kind);
    const kindRef = module.resource;
    const ok = (message: string): { condition: ConditionInput } => ({ condition: { type: CONDITION.workload, status: 'True', reason: 'WorkloadReady', message } });
    const fail = (reason: string, message: string): { condition: ConditionInput } => ({ condition: { type: CONDITION.workload, status: 'False', reason, message } });
    try {
      // A kind change: the workload of the other kind goes first (a name can serve one kind only, for clarity).
      for (const otherKind of otherWorkloadKinds(desired.kind)) {
        const other = await client.get<KubeObject>(otherKind.resource, ns, name);
        if (other && ownedBy(other, uid)) {
          await this.deleteIgnoringMissing(otherKind.resource, other, 'Background');
          await this.event(actor, 'Normal', 'WorkloadKindChanged', `deleted ${otherKind.kind} ${name}: spec.workload.kind is now ${desired.kind}`);
        }
      }
      let existing = await client.get<KubeObject>(kindRef, ns, name);
      if (!existing) {
        // With scaling on, KEDA owns the count, but only once its ScaledObject exists: created without replicas
        // the workload would start at the API default 1 and make a pod per actor that KEDA then removes.
        const initial = desired.replicas === undefined ? actor.spec.scaling.minReplicas : undefined;
        const object = initial === undefined ? desired.object : { ...desired.object, spec: { ...(desired.object.spec as Record<string, unknown>), replicas: initial } };
        try {
          await client.create(kindRef, object);
          await this.event(actor, 'Normal', 'WorkloadCreated', `created ${desired.kind} ${name}`);
          return ok(`${desired.kind} ${name} created`);
        } catch (err) {
          // There, but not in the cache: behind, or no longer selected (its asya.sh/actor label removed).
          if (!isAlreadyExists(err)) throw err;
          existing = await (this.deps.fresh ?? client).get<KubeObject>(kindRef, ns, name);
          if (!existing) throw err;
        }
      }
      if (!ownedBy(existing, uid)) return fail('WorkloadConflict', `${desired.kind} ${ns}/${name} exists and is not owned by this actor; delete or rename it`);
      if (existing.metadata.deletionTimestamp) return { ...fail('WorkloadRecreating', `waiting for the old ${desired.kind} ${name} to be deleted`), requeueAfterMs: RECREATE_WAIT_MS };
      const wantImmutable = desired.object.metadata.annotations?.[IMMUTABLE_HASH_ANNOTATION];
      if (existing.metadata.annotations?.[IMMUTABLE_HASH_ANNOTATION] !== wantImmutable) {
        // Selector or claim templates changed: the API server refuses the update (422), so recreate deliberately.
        // A StatefulSet is deleted orphaning its pods and claims, which the new one adopts (no downtime, data kept).
        await this.deleteIgnoringMissing(kindRef, existing, module.replacePropagation);
        await this.event(actor, 'Normal', 'WorkloadRecreated', `${desired.kind} ${name} is re-created because an immutable field changed (selector, serviceName or volumeClaimTemplates)`);
        return { ...fail('WorkloadRecreating', `re-creating ${desired.kind} ${name} for a change of an immutable field`), requeueAfterMs: RECREATE_WAIT_MS };
      }
      const wanted = desired.object.metadata.annotations?.[SPEC_HASH_ANNOTATION];
      const hashSame = existing.metadata.annotations?.[SPEC_HASH_ANNOTATION] === wanted;
      const replicas = (existing.spec as { replicas?: number } | undefined)?.replicas;
      // The fields we own (template, selector, replicas when scaling is off), labels and owner; not what the
      // API server defaulted, nor replicas under KEDA.
      const drift = firstDrift(comparable(desired.object), existing);
      if (hashSame && (drift === undefined || this.unconvergeable.has(`${existing.metadata.uid}/${wanted}`))) return ok(`${desired.kind} ${name} up to date`);
      const spec = { ...(desired.object.spec as Record<string, unknown>) };
      // KEDA owns the count when scaling is on: a replace without replicas would reset it to 1.
      if (desired.replicas === undefined && replicas !== undefined) spec.replicas = replicas;
      const written = await client.update(kindRef, {
        ...existing,
        metadata: {
          ...existing.metadata,
          labels: { ...(existing.metadata.labels ?? {}), ...(desired.object.metadata.labels ?? {}) },
          annotations: { ...(existing.metadata.annotations ?? {}), ...(desired.object.metadata.annotations ?? {}) },
          ownerReferences: desired.object.metadata.ownerReferences,
        },
        spec,
      });
      if (hashSame) await this.tellDriftRepaired(actor, kindRef, name, drift ?? '/');
      this.checkConverged(kindRef, desired.object, written, wanted);
      return ok(`${desired.kind} ${name} updated`);
    } catch (err) {
      if (isRetriable(err)) throw err;
      return fail('WorkloadFailed', errMessage(err));
    }
  }

  private async kedaIsServed(): Promise<boolean> {
    const ttl = this.deps.kedaCheckTtlMs ?? 60_000;
    const now = Date.now();
    if (this.kedaServed && now - this.kedaServed.at < ttl) return this.kedaServed.value;
    const value = await this.deps.client.served(KINDS.scaledObject);
    this.kedaServed = { value, at: now };
    return value;
  }

  private async ensureScaling(actor: DefaultedActor, tc: TransportConfig, queueUrl: string | undefined): Promise<{ condition: ConditionInput; desiredReplicas?: number; requeueAfterMs?: number }> {
    const { client } = this.deps;
    const ns = actor.metadata.namespace ?? '';
    const name = actor.metadata.name ?? '';
    const uid = actor.metadata.uid;
    const desired = desiredScaling(actor, tc, pluginOf(tc).triggerNeedsQueueUrl ? queueUrl : undefined);
    if (!desired) return { condition: { type: CONDITION.scaling, status: 'True', reason: 'ScalingDisabled', message: 'scaling disabled' } };
    try {
      if (desired.triggerAuthentication) await this.apply(KINDS.triggerAuthentication, desired.triggerAuthentication, uid, actor);
      else {
        const ta = await client.get<KubeObject>(KINDS.triggerAuthentication, ns, triggerAuthNameFor(name));
        if (ta && ownedBy(ta, uid)) await this.deleteIgnoringMissing(KINDS.triggerAuthentication, ta);
      }
      const { object: so, changed } = await this.apply(KINDS.scaledObject, desired.scaledObject, uid, actor);
      if (changed) await this.event(actor, 'Normal', 'ScaledObjectApplied', `ScaledObject ${name}: ${actor.spec.scaling.minReplicas}..${actor.spec.scaling.maxReplicas} replicas, ${actor.spec.scaling.queueLength} messages per replica`);
      const ready = ((so.status as { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
      // ScaledObjectReady only once KEDA says so; until then ScaledObjectApplied, and we look again soon
      // (nothing watches ScaledObjects: a status change of KEDA's would otherwise wait for the resync).
      const condition: ConditionInput =
        ready?.status === 'False'
          ? { type: CONDITION.scaling, status: 'False', reason: 'ScaledObjectNotReady', message: `KEDA: ${ready.reason ?? ''} ${ready.message ?? ''}`.trim() }
          : ready?.status === 'True'
            ? { type: CONDITION.scaling, status: 'True', reason: 'ScaledObjectReady', message: `ScaledObject ${name} is ready` }
            : { type: CONDITION.scaling, status: 'True', reason: 'ScaledObjectApplied', message: `ScaledObject ${name} applied, waiting for KEDA to report it Ready` };
      const hpa = await client.get<KubeObject>(KINDS.hpa, ns, kedaHpaNameFor(name));
      // The HPA's desiredReplicas means something only while it computes (ScalingActive): at zero replicas it is
      // disabled, and KEDA itself activates the workload 0 -> 1; then the workload's count is what KEDA wants.
      const hpaStatus = hpa?.status as { desiredReplicas?: number; conditions?: Array<{ type?: string; status?: string }> } | undefined;
      const hpaActive = (hpaStatus?.conditions ?? []).some((c) => c.type === 'ScalingActive' && c.status === 'True');
      const desiredReplicas = hpaActive ? hpaStatus?.desiredReplicas : undefined;
      const ageMs = Date.now() - Date.parse(so.metadata.creationTimestamp ?? '');
      const young = ageMs < HPA_WAIT_WINDOW_MS;
      const requeueAfterMs = (!hpa && young) || (!ready && young) ? HPA_WAIT_MS : !ready ? KEDA_PENDING_RECHECK_MS : undefined;
      return { condition, ...(desiredReplicas !== undefined ? { desiredReplicas } : {}), ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
    } catch (err) {
      if (isRetriable(err) && !(err instanceof KubeApiError && err.reason === 'NotOwned')) throw err;
      return { condition: { type: CONDITION.scaling, status: 'False', reason: 'ScaledObjectFailed', message: errMessage(err) } };
    }
  }

  private async deleteScaling(actor: DefaultedActor): Promise<void> {
    if (!(await this.kedaIsServed())) return;
    const { client } = this.deps;
    const ns = actor.metadata.namespace ?? '';
    const name = actor.metadata.name ?? '';
    for (const [kind, n] of [
      [KINDS.scaledObject, name],
      [KINDS.triggerAuthentication, triggerAuthNameFor(name)],
    ] as const) {
      const existing = await client.get<KubeObject>(kind, ns, n);
      if (existing && ownedBy(existing, actor.metadata.uid)) {
        await this.deleteIgnoringMissing(kind, existing);
        if (kind === KINDS.scaledObject) await this.event(actor, 'Normal', 'ScaledObjectDeleted', `scaling disabled: deleted ScaledObject ${name}`);
      }
    }
  }

  private async deleteIgnoringMissing(kind: ResourceKind, obj: KubeObject, propagationPolicy: 'Background' | 'Orphan' = 'Background'): Promise<void> {
    try {
      await this.deps.client.delete(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', { propagationPolicy, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // ---- deletion ----

  private async finalize(actor: AsyncActor & KubeObject): Promise<ReconcileResult> {
    const { client, config } = this.deps;
    if (!(actor.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    const ns = actor.metadata.namespace ?? '';
    const name = actor.metadata.name ?? '';
    const skip = actor.metadata.annotations?.[SKIP_QUEUE_DELETION_ANNOTATION] === 'true';
    const found = findTransport(config, String(actor.spec?.transport ?? ''));
    const transport = found.ok ? this.deps.transports.get(found.transport.name) : undefined;
    // The end queues are the transport's, not the end actor's: every sidecar needs them (ensureEndQueues). And a
    // queue another actor maps to (the same name in another namespace) stays: it may hold that actor's messages.
    const shared = found.ok && this.deps.actors?.().some((a) => a.metadata.name === name && a.metadata.namespace !== ns && a.spec?.transport === found.transport.name);
    if (shared) await this.event(actor, 'Normal', 'QueueKept', `queue ${queueNameFor(name)} is kept: another actor named ${name} uses it`);
    if (config.reconciler.deleteQueues && !skip && transport && !shared && !END_QUEUES.includes(queueNameFor(name))) {
      try {
        await transport.deleteQueue({ name: queueNameFor(name), actorName: name, actorNamespace: ns });
        await this.event(actor, 'Normal', 'QueueDeleted', `deleted queue ${queueNameFor(name)} on ${transport.name}`);
      } catch (err) {
        if (!isTransportError(err)) throw err;
        const timeoutS = config.reconciler.queueDeletionTimeoutSeconds;
        const ageMs = this.clock().getTime() - Date.parse(actor.metadata.deletionTimestamp ?? '');
        if (timeoutS === 0 || ageMs < timeoutS * 1000) {
          const message = `cannot delete queue ${queueNameFor(name)}: ${err.message}; retrying${timeoutS ? ` for up to ${timeoutS}s` : ''}. To delete the actor now and keep the queue, annotate it ${SKIP_QUEUE_DELETION_ANNOTATION}=true`;
          const prev = actor.status?.conditions?.find((c) => c.type === CONDITION.transport);
          if (prev?.status !== 'False' || prev.reason !== err.reason) await this.event(actor, 'Warning', 'QueueDeletionFailed', message);
          const status = computeStatus({
            previous: actor.status,
            generation: actor.metadata.generation,
            now: this.clock().toISOString(),
            conditions: [{ type: CONDITION.transport, status: 'False', reason: err.reason, message }, ...(actor.status?.conditions ?? []).filter((c) => c.type !== CONDITION.transport).map(({ type, status, reason, message }) => ({ type, status, reason, message }))],
            facts: terminatingFacts(),
          });
          await this.writeStatus(actor, { ...actor.status, ...status });
          return { backoff: true };
        }
        await this.event(actor, 'Warning', 'QueueDeletionAbandoned', `gave up deleting queue ${queueNameFor(name)} after ${timeoutS}s: ${err.message}; the queue is left on the broker`);
      }
    }
    if (await this.kedaIsServed()) {
      for (const [kind, n] of [
        [KINDS.scaledObject, name],
        [KINDS.triggerAuthentication, triggerAuthNameFor(name)],
      ] as const) {
        const existing = await client.get<KubeObject>(kind, ns, n);
        if (existing && ownedBy(existing, actor.metadata.uid)) await this.deleteIgnoringMissing(kind, existing);
      }
    }
    this.ensured.delete(`${ns}/${name}`);
    try {
      await client.update(KINDS.actor, { ...actor, metadata: { ...actor.metadata, finalizers: (actor.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return {};
  }

  // ---- status ----

  private async writeConfigError(actor: AsyncActor & KubeObject, reason: string, message: string): Promise<ReconcileResult> {
    const previous = actor.status;
    const status = computeStatus({
      previous,
      generation: actor.metadata.generation,
      now: this.clock().toISOString(),
      conditions: [
        { type: CONDITION.transport, status: reason === 'TransportNotConfigured' ? 'False' : 'Unknown', reason, message },
        { type: CONDITION.workload, status: 'False', reason, message },
        { type: CONDITION.scaling, status: 'Unknown', reason, message },
      ],
      facts: { ...terminatingFacts(), deleting: false, configError: true },
    });
    await this.writeStatus(actor, status);
    // Nothing to retry: a new spec or configuration brings the actor back through the informers.
    return {};
  }

  private async writeStatus(actor: AsyncActor & KubeObject, status: AsyncActorStatus): Promise<void> {
    if (stableStringify(actor.status ?? {}) === stableStringify(status)) return;
    const prev = actor.status;
    await this.deps.client.updateStatus(KINDS.actor, { ...actor, status });
    await this.transitionEvents(actor, prev, status);
  }

  private async transitionEvents(actor: KubeObject, prev: AsyncActorStatus | undefined, next: AsyncActorStatus): Promise<void> {
    for (const c of next.conditions ?? []) {
      const before = prev?.conditions?.find((p) => p.type === c.type);
      if (before?.status === c.status && before.reason === c.reason) continue;
      if (!before && c.status !== 'False') continue;
      if (c.status === 'Unknown') continue;
      await this.event(actor, c.status === 'True' ? 'Normal' : 'Warning', c.status === 'True' ? c.reason : `${c.type}False`, `${c.type}: ${c.reason}: ${c.message}`);
    }
  }

  private async event(actor: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, type: EventType, reason: string, message: string): Promise<void> {
    await this.deps.events?.record(actor, type, reason, message);
  }
}

/** What we set of an object, for the drift comparison: its content, labels and owner (not our hash annotation). */
function comparable(desired: KubeObject): Record<string, unknown> {
  const { metadata, ...rest } = desired;
  return { ...rest, metadata: { labels: metadata.labels, ownerReferences: metadata.ownerReferences } };
}

function terminatingFacts(): Parameters<typeof computeStatus>[0]['facts'] {
  return {
    deleting: true,
    configError: false,
    transportReady: false,
    workloadError: false,
    workloadExists: false,
    rollingOut: false,
    specReplicas: 0,
    scalingEnabled: false,
    scalingReady: false,
    pods: { running: 0, pending: 0, failing: 0, total: 0, failures: [], unschedulable: 0 },
  };
}

function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

export { isConflict };
