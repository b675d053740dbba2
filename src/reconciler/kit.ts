// What every step of a reconcile shares: the dependencies, the injected clock, what this process remembers
// between reconciles (queues it declared, answers it trusts for a while, rate limits), and the ways to write
// (apply an owned object, delete one, record an Event). The steps themselves are in steps/.
import type { AsyncActor } from '../api/schema.js';
import { validateActor } from '../api/validate.js';
import type { OperatorConfig } from '../config/schema.js';
import { KINDS, KubeApiError, isAlreadyExists, isNotFound, type KubeClient, type KubeObject, type ResourceKind } from '../kube/client.js';
import { POD_WEBHOOK_NAME, SPEC_HASH_ANNOTATION } from '../names.js';
import type { Logger } from '../observability/logger.js';
import type { Transport } from '../transports/types.js';
import { firstDrift } from './compare.js';
import type { EventSink, EventType } from './events.js';
import { EVENT, type EventReason } from './reasons.js';

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
  /** The clock of every time-dependent decision (TTLs, rate limits, waits): tests drive it. */
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

/** How long the answer "is the pod webhook registered" is trusted. */
const WEBHOOK_CHECK_TTL_MS = 5_000;

export type ActorRef = Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>;

export function ownedBy(obj: KubeObject, uid: string | undefined): boolean {
  return !!uid && (obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
}

/** What we set of an object, for the drift comparison: its content, labels and owner (not our hash annotation). */
export function comparable(desired: KubeObject): Record<string, unknown> {
  const { metadata, ...rest } = desired;
  return { ...rest, metadata: { labels: metadata.labels, ownerReferences: metadata.ownerReferences } };
}

export class ReconcileKit {
  /** Queues declared by this process, with the intent they were declared for: re-declared only on change. */
  readonly ensured = new Map<string, { hash: string; url: string }>();
  /** End queues declared by this process, as <transport>/<queue>. */
  readonly endQueuesDeclared = new Set<string>();
  /** Actors already told (once per process) of something an Event says once: keyed by what was told. */
  readonly told = new Set<string>();
  /** Last recycled pod per actor, and recent recycles overall (rate limits of podRecycling). */
  readonly lastRecycle = new Map<string, number>();
  recycles: number[] = [];
  /**
   * Objects (uid/intent hash) whose write does not converge (a mutating admission webhook changes what we
   * write): left alone until our intent changes, instead of a write per reconcile.
   */
  readonly unconvergeable = new Set<string>();
  private readonly validated = new Map<string, { version: string; result: ReturnType<typeof validateActor> }>();
  private kedaServed?: { value: boolean; at: number };
  private podWebhook?: { value: boolean; at: number };

  constructor(readonly deps: ReconcilerDeps) {}

  get client(): KubeClient {
    return this.deps.client;
  }
  get config(): OperatorConfig {
    return this.deps.config;
  }
  get logger(): Logger {
    return this.deps.logger;
  }

  /** Milliseconds since the epoch, on the injected clock. */
  now(): number {
    return (this.deps.clock?.() ?? new Date()).getTime();
  }
  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Forgets what was remembered of an actor that is gone. */
  forget(key: string): void {
    this.ensured.delete(key);
    this.validated.delete(key);
  }

  /** Validation and defaulting, once per generation. The stored actor is its own old version: ratcheted rules pass what is stored. */
  validate(actor: AsyncActor & KubeObject): ReturnType<typeof validateActor> {
    const key = `${actor.metadata.namespace}/${actor.metadata.name}`;
    const version = `${actor.metadata.uid}/${actor.metadata.generation}`;
    const memo = this.validated.get(key);
    if (memo && actor.metadata.generation !== undefined && memo.version === version) return memo.result;
    const result = validateActor(actor, { config: this.config, oldActor: actor });
    this.validated.set(key, { version, result });
    return result;
  }

  async event(actor: ActorRef, type: EventType, reason: string, message: string): Promise<void> {
    await this.deps.events?.record(actor, type, reason, message);
  }

  /** An Event said once per process for `what` (a key naming the actor and the matter). */
  async eventOnce(what: string, actor: ActorRef, type: EventType, reason: EventReason, message: string): Promise<void> {
    if (this.told.has(what)) return;
    this.told.add(what);
    await this.event(actor, type, reason, message);
  }

  async kedaIsServed(): Promise<boolean> {
    const ttl = this.deps.kedaCheckTtlMs ?? 60_000;
    const now = this.now();
    if (this.kedaServed && now - this.kedaServed.at < ttl) return this.kedaServed.value;
    const value = await this.client.served(KINDS.scaledObject);
    this.kedaServed = { value, at: now };
    return value;
  }

  async podWebhookRegistered(): Promise<boolean> {
    const now = this.now();
    if (this.podWebhook && now - this.podWebhook.at < WEBHOOK_CHECK_TTL_MS) return this.podWebhook.value;
    const configs = await this.client.list<KubeObject & { webhooks?: Array<{ name?: string }> }>(KINDS.mutatingWebhookConfiguration, undefined);
    const value = configs.some((c) => (c.webhooks ?? []).some((w) => w.name === POD_WEBHOOK_NAME));
    this.podWebhook = { value, at: now };
    return value;
  }

  async deleteIgnoringMissing(kind: ResourceKind, obj: KubeObject, propagationPolicy: 'Background' | 'Orphan' = 'Background'): Promise<void> {
    try {
      await this.client.delete(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', { propagationPolicy, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * The live object when the cache may not have it yet: an AlreadyExists on create means it is there
   * (the cache is behind, or the object left a label-selected watch), so it is read from the API.
   */
  async existingAfterConflict(kind: ResourceKind, ns: string, name: string, err: unknown): Promise<KubeObject> {
    if (!isAlreadyExists(err)) throw err;
    const existing = await (this.deps.fresh ?? this.client).get<KubeObject>(kind, ns, name);
    if (!existing) throw err;
    return existing;
  }

  /**
   * Creates the object, or brings the live one back to what we want: written when our intent changed (its
   * spec-hash annotation) or when the live object drifted from it (compare.ts: someone else's edit), never
   * because of the API server's defaults.
   */
  async apply(kind: ResourceKind, desired: KubeObject, ownerUid: string | undefined, actor?: ActorRef): Promise<{ object: KubeObject; changed: boolean }> {
    const ns = desired.metadata.namespace ?? '';
    const name = desired.metadata.name ?? '';
    let existing = await this.client.get<KubeObject>(kind, ns, name);
    if (!existing) {
      try {
        return { object: await this.client.create(kind, desired), changed: true };
      } catch (err) {
        existing = await this.existingAfterConflict(kind, ns, name, err);
      }
    }
    if (ownerUid && !ownedBy(existing, ownerUid)) {
      throw new KubeApiError(409, `${kind.kind} ${ns}/${name} exists and is not owned by this actor; rename or delete it`, 'NotOwned');
    }
    const d = this.drift(desired, existing);
    if (d.upToDate) return { object: existing, changed: false };
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
    const object = await this.client.update(kind, next);
    await this.afterWrite(kind, desired, object, d, actor);
    return { object, changed: true };
  }

  /** Whether the live object holds our intent (hash) and nothing drifted; `field` is the first drift. */
  drift(desired: KubeObject, live: KubeObject): { upToDate: boolean; sameIntent: boolean; field: string | undefined } {
    const wanted = desired.metadata.annotations?.[SPEC_HASH_ANNOTATION];
    const sameIntent = !!wanted && live.metadata.annotations?.[SPEC_HASH_ANNOTATION] === wanted;
    const field = firstDrift(comparable(desired), live);
    return { upToDate: sameIntent && (field === undefined || this.unconvergeable.has(`${live.metadata.uid}/${wanted}`)), sameIntent, field };
  }

  /** After an update: a drift repair is said (log and Event), and a write that does not stick is not repeated. */
  async afterWrite(kind: ResourceKind, desired: KubeObject, written: KubeObject, d: { sameIntent: boolean; field: string | undefined }, actor?: ActorRef): Promise<void> {
    const name = written.metadata.name ?? '';
    if (d.sameIntent) {
      this.logger.warn('restored an object changed outside the reconciler', { kind: kind.kind, name, field: d.field ?? '/' });
      if (actor) await this.event(actor, 'Warning', EVENT.DriftRepaired, `${kind.kind} ${name} was changed outside the reconciler (${d.field ?? '/'}); restored`);
    }
    const wanted = desired.metadata.annotations?.[SPEC_HASH_ANNOTATION];
    const still = firstDrift(comparable(desired), written);
    if (still === undefined || !wanted) return;
    this.unconvergeable.add(`${written.metadata.uid}/${wanted}`);
    this.logger.warn('the API server changes what the reconciler writes (a mutating admission webhook?): not rewriting it until the actor changes', {
      kind: kind.kind,
      name,
      field: still,
    });
  }
}
