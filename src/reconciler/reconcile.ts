// One reconcile of one AsyncActor: read the world, compute the desired state (desired.ts, status.ts), write
// only what differs, and say when to come back. Every step is idempotent. Errors the API server may fix by
// itself (409, 5xx) are thrown for the work queue's backoff; broker faults become conditions plus backoff.
import type { AsyncActor, AsyncActorStatus, DefaultedActor, WorkloadKind } from '../api/schema.js';
import { validateActor } from '../api/validate.js';
import { findTransport } from '../config/load.js';
import type { OperatorConfig, TransportConfig } from '../config/schema.js';
import { KINDS, KubeApiError, isConflict, isNotFound, type KubeClient, type KubeObject, type ResourceKind } from '../kube/client.js';
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
  actorServiceAccountFor,
  kedaHpaNameFor,
  queueNameFor,
  triggerAuthNameFor,
} from '../names.js';
import type { Logger } from '../observability/logger.js';
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

const WORKLOAD_KINDS: Record<WorkloadKind, ResourceKind> = { Deployment: KINDS.deployment, StatefulSet: KINDS.statefulSet };

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
      return {};
    }
    if (raw.metadata.deletionTimestamp) return this.finalize(raw);

    let actor = raw;
    if (!(actor.metadata.finalizers ?? []).includes(FINALIZER)) {
      // Before anything external exists, so that deleting the actor always cleans up after it.
      actor = await client.update(KINDS.actor, { ...actor, metadata: { ...actor.metadata, finalizers: [...(actor.metadata.finalizers ?? []), FINALIZER] } });
    }

    // The stored actor is its own old version: rules that ratchet on update (socket.maxSize) pass what is stored.
    const validation = validateActor(actor, { config: this.deps.config, oldActor: actor });
    const defaulted: DefaultedActor = { ...validation.actor, metadata: actor.metadata };
    const found = findTransport(this.deps.config, String(defaulted.spec?.transport ?? ''));
    if (!found.ok || validation.errors.length > 0) {
      const message = !found.ok ? found.message : validation.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      return this.writeConfigError(actor, !found.ok ? 'TransportNotConfigured' : 'InvalidSpec', message);
    }
    const transportConfig = found.transport;
    const transport = this.deps.transports.get(transportConfig.name);
    const spec: QueueSpec = { name: queueNameFor(name), actorName: name, actorNamespace: namespace };

    // 1. Queue.
    const queue = transport
      ? await this.ensureQueue(key, transport, transportConfig, spec)
      : { ready: false, reason: 'TransportNotConfigured', message: `no client for transport ${transportConfig.name}` };

    let workloadCond: ConditionInput = { type: CONDITION.workload, status: 'Unknown', reason: 'WaitingForQueue', message: 'the workload is created once the queue exists' };
    let scalingCond: ConditionInput;
    let requeueAfterMs: number | undefined = queue.retryAfterMs;
    let desiredReplicas: number | undefined;
    let scaledObjectRef: AsyncActorStatus['scaledObjectRef'];
    const kind = defaulted.spec.workload.kind;
    const kindRef = WORKLOAD_KINDS[kind];

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

    // 5. Workload readiness from the pods.
    if (queue.ready && workloadCond.status === 'True') {
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
    if (!queue.ready && queue.retryAfterMs === undefined) return { backoff: true, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  // ---- queue ----

  private async ensureQueue(key: string, transport: Transport, tc: TransportConfig, spec: QueueSpec): Promise<QueueState> {
    const intent = hashOf({ transport: tc.name, type: tc.type, config: tc.config, queue: spec });
    const known = this.ensured.get(key);
    try {
      if (known && known.hash === intent) {
        // Idle path: one passive check that also gives the depth.
        const stats = await transport.stats(spec);
        if (stats) return { ready: true, reason: 'QueueReady', message: `queue ${spec.name} exists`, stats, url: known.url };
        this.deps.logger.warn('queue disappeared, declaring it again', { queue: spec.name, transport: tc.name });
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

  /** Creates or updates an object whose intent is summarised by its spec-hash annotation. */
  private async apply(kind: ResourceKind, desired: KubeObject, ownerUid: string | undefined): Promise<{ object: KubeObject; changed: boolean }> {
    const { client } = this.deps;
    const ns = desired.metadata.namespace ?? '';
    const name = desired.metadata.name ?? '';
    const existing = await client.get<KubeObject>(kind, ns, name);
    if (!existing) return { object: await client.create(kind, desired), changed: true };
    if (ownerUid && !ownedBy(existing, ownerUid)) {
      throw new KubeApiError(409, `${kind.kind} ${ns}/${name} exists and is not owned by this actor; rename or delete it`, 'NotOwned');
    }
    const wanted = desired.metadata.annotations?.[SPEC_HASH_ANNOTATION];
    if (wanted && existing.metadata.annotations?.[SPEC_HASH_ANNOTATION] === wanted) return { object: existing, changed: false };
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
    return { object: await client.update(kind, next), changed: true };
  }

  private async ensureServiceAccount(actor: DefaultedActor, tc: TransportConfig): Promise<void> {
    const desired = desiredServiceAccount(actor, tc);
    if (desired) await this.apply(KINDS.serviceAccount, desired, actor.metadata.uid);
    else {
      const existing = await this.deps.client.get<KubeObject>(KINDS.serviceAccount, actor.metadata.namespace ?? '', actorServiceAccountFor(actor.metadata.name ?? ''));
      if (existing && ownedBy(existing, actor.metadata.uid)) await this.deleteIgnoringMissing(KINDS.serviceAccount, existing);
    }
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
    const kindRef = WORKLOAD_KINDS[desired.kind];
    const ok = (message: string): { condition: ConditionInput } => ({ condition: { type: CONDITION.workload, status: 'True', reason: 'WorkloadReady', message } });
    const fail = (reason: string, message: string): { condition: ConditionInput } => ({ condition: { type: CONDITION.workload, status: 'False', reason, message } });
    try {
      // A kind change: the workload of the other kind goes first (a name can serve one kind only, for clarity).
      const otherKind: WorkloadKind = desired.kind === 'Deployment' ? 'StatefulSet' : 'Deployment';
      const other = await client.get<KubeObject>(WORKLOAD_KINDS[otherKind], ns, name);
      if (other && ownedBy(other, uid)) {
        await this.deleteIgnoringMissing(WORKLOAD_KINDS[otherKind], other, 'Background');
        await this.event(actor, 'Normal', 'WorkloadKindChanged', `deleted ${otherKind} ${name}: spec.workload.kind is now ${desired.kind}`);
      }
      const existing = await client.get<KubeObject>(kindRef, ns, name);
      if (!existing) {
        // With scaling on, KEDA owns the count, but only once its ScaledObject exists: created without replicas
        // the workload would start at the API default 1 and make a pod per actor that KEDA then removes.
        const initial = desired.replicas === undefined ? actor.spec.scaling.minReplicas : undefined;
        const object = initial === undefined ? desired.object : { ...desired.object, spec: { ...(desired.object.spec as Record<string, unknown>), replicas: initial } };
        await client.create(kindRef, object);
        await this.event(actor, 'Normal', 'WorkloadCreated', `created ${desired.kind} ${name}`);
        return ok(`${desired.kind} ${name} created`);
      }
      if (!ownedBy(existing, uid)) return fail('WorkloadConflict', `${desired.kind} ${ns}/${name} exists and is not owned by this actor; delete or rename it`);
      if (existing.metadata.deletionTimestamp) return { ...fail('WorkloadRecreating', `waiting for the old ${desired.kind} ${name} to be deleted`), requeueAfterMs: RECREATE_WAIT_MS };
      const wantImmutable = desired.object.metadata.annotations?.[IMMUTABLE_HASH_ANNOTATION];
      if (existing.metadata.annotations?.[IMMUTABLE_HASH_ANNOTATION] !== wantImmutable) {
        // Selector or claim templates changed: the API server refuses the update (422), so recreate deliberately.
        // A StatefulSet is deleted orphaning its pods and claims, which the new one adopts (no downtime, data kept).
        const policy = desired.kind === 'StatefulSet' ? 'Orphan' : 'Background';
        await this.deleteIgnoringMissing(kindRef, existing, policy);
        await this.event(actor, 'Normal', 'WorkloadRecreated', `${desired.kind} ${name} is re-created because an immutable field changed (selector, serviceName or volumeClaimTemplates)`);
        return { ...fail('WorkloadRecreating', `re-creating ${desired.kind} ${name} for a change of an immutable field`), requeueAfterMs: RECREATE_WAIT_MS };
      }
      const hashSame = existing.metadata.annotations?.[SPEC_HASH_ANNOTATION] === desired.object.metadata.annotations?.[SPEC_HASH_ANNOTATION];
      const replicas = (existing.spec as { replicas?: number } | undefined)?.replicas;
      const replicasSame = desired.replicas === undefined || replicas === desired.replicas;
      const ownerSame = stableStringify(existing.metadata.ownerReferences) === stableStringify(desired.object.metadata.ownerReferences);
      if (hashSame && replicasSame && ownerSame) return ok(`${desired.kind} ${name} up to date`);
      const spec = { ...(desired.object.spec as Record<string, unknown>) };
      // KEDA owns the count when scaling is on: a replace without replicas would reset it to 1.
      if (desired.replicas === undefined && replicas !== undefined) spec.replicas = replicas;
      await client.update(kindRef, {
        ...existing,
        metadata: {
          ...existing.metadata,
          labels: { ...(existing.metadata.labels ?? {}), ...(desired.object.metadata.labels ?? {}) },
          annotations: { ...(existing.metadata.annotations ?? {}), ...(desired.object.metadata.annotations ?? {}) },
          ownerReferences: desired.object.metadata.ownerReferences,
        },
        spec,
      });
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
    const desired = desiredScaling(actor, tc, tc.type === 'sqs' ? queueUrl : undefined);
    if (!desired) return { condition: { type: CONDITION.scaling, status: 'True', reason: 'ScalingDisabled', message: 'scaling disabled' } };
    try {
      if (desired.triggerAuthentication) await this.apply(KINDS.triggerAuthentication, desired.triggerAuthentication, uid);
      else {
        const ta = await client.get<KubeObject>(KINDS.triggerAuthentication, ns, triggerAuthNameFor(name));
        if (ta && ownedBy(ta, uid)) await this.deleteIgnoringMissing(KINDS.triggerAuthentication, ta);
      }
      const { object: so, changed } = await this.apply(KINDS.scaledObject, desired.scaledObject, uid);
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
    // The end queues are the transport's, not the end actor's: every sidecar needs them (ensureEndQueues).
    if (config.reconciler.deleteQueues && !skip && transport && !END_QUEUES.includes(queueNameFor(name))) {
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
