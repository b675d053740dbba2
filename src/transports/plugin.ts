// What a transport is to the Kubernetes side: everything the webhook, the reconciler and `check` need to know of
// one kind of broker, in one object. A transport is a folder (src/transports/<type>/) exporting one of these, and
// registry.ts lists them; nothing else in the code branches on a transport's type. A new broker implements
// this interface (the compiler lists what it lacks) and registers itself.
import type { TSchema } from '@sinclair/typebox';
import type { DefaultedActor } from '../api/schema.js';
import type { Logger } from '../observability/logger.js';
import type { EnvVar } from '../schema/kubernetes.js';
import type { FieldError } from '../util/schemaChecker.js';
import type { Transport } from './types.js';

/** How KEDA authenticates to the broker: parameters from Secret keys, or the pod's identity. */
export type KedaAuthentication =
  | { secretTargetRef: Array<{ parameter: string; name: string; key: string }> }
  | { podIdentity: Record<string, unknown> };

export interface KedaTrigger {
  /** The KEDA scaler, e.g. rabbitmq or aws-sqs-queue. */
  type: string;
  metadata: Record<string, string>;
  /** A TriggerAuthentication is made from this when set. */
  authentication?: KedaAuthentication;
}

/** What `asya-webhook check` found of the broker. */
export interface TransportProbeResult {
  ok: boolean;
  /** What was tried: "AMQP login as guest", "TCP connect", "SQS ListQueues". */
  how: string;
  error?: string;
  /** Why a weaker probe was used (e.g. the Secret was not readable). */
  note?: string;
  /** End queues found missing; undefined when they could not be looked for. */
  missingEndQueues?: string[];
}

export interface ProbeContext {
  /** The installation's namespace, where its Secrets are. */
  namespace: string;
  /** A key of a Secret in the installation's namespace, or undefined when it cannot be read. */
  readSecretKey(name: string, key: string): Promise<string | undefined>;
  /** The end queues to look for. */
  endQueues: readonly string[];
}

export interface TransportPlugin<C = any> {
  readonly type: string;
  /** Its `config` block in the operator configuration: defaults applied, unknown keys refused. */
  readonly configSchema: TSchema;
  /** The broker client of the reconciler (a promise: its library loads only in the process that needs it). */
  client(name: string, config: C, logger: Logger): Promise<Transport>;
  /** The sidecar's connection settings, in order (the user's spec.sidecar.env overrides them by name). */
  sidecarEnv(config: C): EnvVar[];
  /** Last word on the sidecar's env, after the user's overrides (e.g. a URL referring to earlier variables). */
  finishSidecarEnv?(config: C, env: EnvVar[]): EnvVar[];
  /** The KEDA trigger on an actor queue. `queueUrl` is known when `triggerNeedsQueueUrl`. */
  kedaTrigger(config: C, q: { queue: string; queueUrl?: string; queueLength: number }): KedaTrigger;
  /** Whether kedaTrigger needs the queue's URL as the broker returned it (SQS). */
  readonly triggerNeedsQueueUrl?: boolean;
  /** The ServiceAccount actor pods run as, when the transport gives them an identity (IRSA); else undefined. */
  podIdentity?(config: C, actorName: string): { serviceAccountName: string; annotations: Record<string, string> } | undefined;
  /** Rules for actors on this transport (queue name limits, fields it needs or forbids), with field paths. */
  validateActor(config: C, a: { actor: DefaultedActor; queue: string }): FieldError[];
  /** Where the broker is, for people: host:port, an endpoint. */
  address(config: C): string;
  /** `check`: is the broker reachable, and are the end queues there? Never throws. */
  probe(name: string, config: C, ctx: ProbeContext): Promise<TransportProbeResult>;
  /** `check`: what to do when the probe fails. */
  probeFix(name: string, config: C): string;
}
