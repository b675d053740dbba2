// Leader election on a coordination.k8s.io/v1 Lease, client-go style: the holder renews every retry period;
// another replica takes over only after leaseDuration without renewal, and every take-over or renewal is a
// resourceVersion-checked update, so two replicas can never both believe they hold it.
import { KINDS, isAlreadyExists, isConflict, type KubeClient, type KubeObject } from '../kube/client.js';
import type { Logger } from '../observability/logger.js';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** RFC 3339 with microseconds: the Lease's MicroTime format. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  /** Period between attempts/renewals; default leaseDuration / 3. */
  retryPeriodMs?: number;
  logger: Logger;
  clock?: () => Date;
  onStartedLeading: () => void;
  /** The process must stop reconciling at once; the elector keeps campaigning and calls onStartedLeading again. */
  onStoppedLeading: () => void;
}

export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** When we last renewed successfully (local clock): past leaseDuration we must assume we lost it. */
  private lastRenew = 0;
  private readonly clock: () => Date;

  constructor(private readonly o: LeaderElectorOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      // Release: let the next replica take over without waiting out the lease.
      try {
        const lease = await this.o.client.get<KubeObject & { spec?: LeaseSpec }>(KINDS.lease, this.o.namespace, this.o.name);
        if (lease?.spec?.holderIdentity === this.o.identity) {
          await this.o.client.update(KINDS.lease, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } });
        }
      } catch (err) {
        this.o.logger.debug('lease release failed', { error: (err as Error).message });
      }
      this.leading = false;
    }
  }

  private get retryMs(): number {
    return this.o.retryPeriodMs ?? Math.max(500, (this.o.leaseDurationSeconds * 1000) / 3);
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      // An API server that accepts the connection and never answers (overloaded, frozen) must not hold the
      // attempt past the point where the lease may have gone to someone else: each attempt has a deadline.
      ok = await Promise.race([
        this.tryAcquireOrRenew(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${this.retryMs} ms`)), this.retryMs))),
      ]);
    } catch (err) {
      this.o.logger.warn('leader election attempt failed', { error: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
    if (ok) {
      this.lastRenew = Date.now();
      if (!this.leading) {
        this.leading = true;
        this.o.logger.info('became leader', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
        this.o.onStartedLeading();
      }
    } else if (this.leading && Date.now() - this.lastRenew > this.o.leaseDurationSeconds * 1000 * 0.8) {
      // Could not renew in time: someone else may take the lease now.
      this.leading = false;
      this.o.logger.warn('lost leadership', { lease: `${this.o.namespace}/${this.o.name}` });
      this.o.onStoppedLeading();
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.retryMs);
  }

  /** One compare-and-swap attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, leaseDurationSeconds } = this.o;
    const now = this.clock();
    const lease = await client.get<KubeObject & { spec?: LeaseSpec }>(KINDS.lease, namespace, name);
    if (!lease) {
      try {
        await client.create(KINDS.lease, {
          apiVersion: KINDS.lease.apiVersion,
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (err) {
        if (isAlreadyExists(err) || isConflict(err)) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = Date.parse(spec.renewTime ?? '') || 0;
    const expired = now.getTime() > renewed + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && !expired) return false;
    const next: LeaseSpec =
      holder === identity
        ? { ...spec, renewTime: microTime(now), leaseDurationSeconds }
        : { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    try {
      await client.update(KINDS.lease, { ...lease, spec: next });
      return true;
    } catch (err) {
      if (isConflict(err)) return false; // someone else wrote first
      throw err;
    }
  }
}
