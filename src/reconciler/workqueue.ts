// A keyed work queue with controller-runtime's contract: a key waiting twice runs once; a key never runs
// twice at once (added while running, it runs again afterwards); at most `concurrency` keys run together;
// failures (a thrown error) come back after a capped exponential backoff per key, unless the error says it is
// terminal; "requeue after" schedules a known wait.

export interface WorkResult {
  requeueAfterMs?: number;
}

/** An error a retry cannot fix (its `terminal` is true): the key waits for its next change. */
function isTerminal(err: unknown): boolean {
  return (err as { terminal?: unknown } | null)?.terminal === true;
}

/** A failure the handler already reported (in the object's status): a backoff, not an error to log. */
function isReported(err: unknown): boolean {
  return (err as { reported?: unknown } | null)?.reported === true;
}

export interface WorkQueueOptions {
  concurrency: number;
  handler: (key: string) => Promise<WorkResult | void>;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called after each run (metrics, logs). */
  onDone?: (key: string, outcome: WorkOutcome, durationMs: number, error?: unknown) => void;
}

export type WorkOutcome = 'success' | 'requeue' | 'backoff' | 'error' | 'terminal';

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while running: run again when the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private paused = true;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly baseDelay: number;
  private readonly maxDelay: number;

  constructor(private readonly opts: WorkQueueOptions) {
    this.baseDelay = opts.baseDelayMs ?? 200;
    this.maxDelay = opts.maxDelayMs ?? 5 * 60_000;
  }

  /** Starts handing keys to the handler (e.g. once this replica leads). */
  start(): void {
    this.paused = false;
    this.pump();
  }

  /** Stops handing out keys; running ones finish. */
  pause(): void {
    this.paused = true;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending schedule for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, timer });
  }

  /** Forgets the backoff of a key (its object is gone). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Backoff for the n-th consecutive failure: base * 2^(n-1), capped. */
  backoffFor(failures: number): number {
    return Math.min(this.maxDelay, this.baseDelay * 2 ** Math.max(0, failures - 1));
  }

  get depth(): number {
    return this.queue.length;
  }
  get inFlight(): number {
    return this.running.size;
  }
  get scheduled(): number {
    return this.timers.size;
  }

  /** Resolves when nothing is queued or running (scheduled retries may remain). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.paused = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private pump(): void {
    while (!this.paused && this.running.size < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      void this.run(key);
    }
    if (this.queue.length === 0 && this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    const started = performance.now();
    let outcome: WorkOutcome = 'success';
    let error: unknown;
    let retryIn: number | undefined;
    try {
      const result = (await this.opts.handler(key)) ?? {};
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined) {
        outcome = 'requeue';
        retryIn = result.requeueAfterMs;
      }
    } catch (err) {
      error = err;
      if (isTerminal(err)) {
        outcome = 'terminal';
        this.failures.delete(key);
      } else {
        outcome = isReported(err) ? 'backoff' : 'error';
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        retryIn = this.backoffFor(n);
      }
    }
    this.running.delete(key);
    this.opts.onDone?.(key, outcome, performance.now() - started, error);
    if (this.dirty.delete(key)) this.add(key);
    else if (retryIn !== undefined) this.addAfter(key, retryIn);
    this.pump();
  }
}
