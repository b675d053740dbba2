// The work queue's contract and the Lease-based leader election against the in-memory API server.
import { describe, expect, it } from '@jest/globals';
import { MemoryKubeClient } from '../support/memoryKube.js';
import { KINDS, type KubeObject } from '../../src/kube/client.js';
import { LeaderElector, microTime } from '../../src/reconciler/leaderElection.js';
import { WorkQueue } from '../../src/reconciler/workqueue.js';
import { logger } from '../support/fixtures.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('collapses duplicates, never runs a key twice at once, re-runs a key added while running', async () => {
    const running = new Set<string>();
    let overlap = false;
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue({
      concurrency: 1, // b waits behind a, so its duplicates collapse in the queue
      handler: async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        runs.push(key);
        if (runs.length === 1) await gate;
        running.delete(key);
      },
    });
    q.start();
    q.add('a');
    await tick();
    q.add('a');
    q.add('a'); // while running: one more run afterwards, not two
    q.add('b');
    q.add('b');
    release();
    await tick(20);
    await q.idle();
    expect(overlap).toBe(false);
    expect(runs.sort()).toEqual(['a', 'a', 'b']);
    await q.shutdown();
  });

  it('bounds concurrency', async () => {
    let now = 0;
    let max = 0;
    const q = new WorkQueue({
      concurrency: 3,
      handler: async () => {
        max = Math.max(max, ++now);
        await tick(5);
        now--;
      },
    });
    q.start();
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await tick(10);
    await q.idle();
    expect(max).toBe(3);
    await q.shutdown();
  });

  it('backs off exponentially with a cap, resets on success, honours requeueAfter', async () => {
    const q = new WorkQueue({ concurrency: 1, baseDelayMs: 10, maxDelayMs: 80, handler: async () => undefined });
    expect([1, 2, 3, 4, 5, 6].map((n) => q.backoffFor(n))).toEqual([10, 20, 40, 80, 80, 80]);
    const times: number[] = [];
    let fails = 3;
    const q2 = new WorkQueue({
      concurrency: 1,
      baseDelayMs: 20,
      handler: async () => {
        times.push(Date.now());
        if (fails-- > 0) throw new Error('boom');
        return times.length === 4 ? { requeueAfterMs: 30 } : {};
      },
    });
    q2.start();
    q2.add('x');
    // Lower bounds only depend on the queue; the wait is generous because the machines are shared and busy.
    for (let waited = 0; times.length < 5 && waited < 5000; waited += 50) await tick(50);
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(gaps[3]).toBeGreaterThanOrEqual(28);
    // requeueAfter (30 ms), not the next backoff step (160 ms).
    expect(gaps[3]).toBeLessThan(150);
    await q.shutdown();
    await q2.shutdown();
  });

  it('does nothing while paused (not leading)', async () => {
    const runs: string[] = [];
    const q = new WorkQueue({ concurrency: 1, handler: async (k) => void runs.push(k) });
    q.add('a');
    await tick(10);
    expect(runs).toEqual([]);
    q.start();
    await tick(10);
    expect(runs).toEqual(['a']);
    await q.shutdown();
  });
});

describe('LeaderElector', () => {
  const opts = (client: MemoryKubeClient, identity: string, clock: () => Date) => ({
    client,
    namespace: 'asya-system',
    name: 'asya-reconciler',
    identity,
    leaseDurationSeconds: 15,
    logger,
    clock,
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
  });

  it('one holder at a time; takes over only after the lease expired; renewals are CAS', async () => {
    const client = new MemoryKubeClient();
    let now = new Date('2026-01-01T00:00:00Z');
    const a = new LeaderElector(opts(client, 'a', () => now));
    const b = new LeaderElector(opts(client, 'b', () => now));
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    now = new Date('2026-01-01T00:00:10Z');
    expect(await a.tryAcquireOrRenew()).toBe(true); // renew
    now = new Date('2026-01-01T00:00:20Z');
    expect(await b.tryAcquireOrRenew()).toBe(false); // renewed 10 s ago: still valid
    now = new Date('2026-01-01T00:00:26Z');
    expect(await b.tryAcquireOrRenew()).toBe(true); // expired
    const lease = client.peek<KubeObject & { spec: { holderIdentity: string; leaseTransitions: number; renewTime: string } }>(KINDS.lease, 'asya-system', 'asya-reconciler')!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1, renewTime: '2026-01-01T00:00:26.000000Z' });
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('two candidates racing on an expired lease: exactly one wins (409 for the other)', async () => {
    const client = new MemoryKubeClient();
    const now = new Date('2026-01-01T00:00:00Z');
    client.simulate(KINDS.lease, { metadata: { name: 'asya-reconciler', namespace: 'asya-system' }, spec: { holderIdentity: 'old', leaseDurationSeconds: 15, renewTime: microTime(new Date('2025-12-31T00:00:00Z')) } });
    const results = await Promise.all(['a', 'b', 'c'].map((id) => new LeaderElector(opts(client, id, () => now)).tryAcquireOrRenew()));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('microTime has microseconds', () => {
    expect(microTime(new Date('2026-01-01T00:00:00.123Z'))).toBe('2026-01-01T00:00:00.123000Z');
  });
});

describe('WorkQueue outcomes', () => {
  it('a terminal error is not retried; a reported transient one backs off without being logged as an error', async () => {
    const outcomes: string[] = [];
    let runs = 0;
    const q = new WorkQueue({
      concurrency: 1,
      baseDelayMs: 5,
      handler: async (key) => {
        runs++;
        if (key === 'terminal') throw Object.assign(new Error('cannot'), { terminal: true });
        if (runs < 4) throw Object.assign(new Error('broker down'), { reported: true });
        return {};
      },
      onDone: (_k, outcome) => outcomes.push(outcome),
    });
    q.start();
    q.add('terminal');
    for (let waited = 0; outcomes.length < 1 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(outcomes).toEqual(['terminal']);
    q.add('flaky');
    for (let waited = 0; !outcomes.includes('success') && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(outcomes).toEqual(['terminal', 'backoff', 'backoff', 'success']);
    await q.shutdown();
  });
});
