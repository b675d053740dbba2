// How a step says that a reconcile failed: it throws. A TransientError (the broker is down, the API server
// answered 409 or 5xx) comes back with the work queue's backoff; a TerminalError (nothing a retry can change)
// does not come back until the actor or its objects change. Known waits are not errors: a step returns
// requeueAfterMs.
import { KubeApiError } from '../kube/client.js';
import { TransportError } from '../transports/types.js';

export class TransientError extends Error {
  constructor(
    message: string,
    /** Already in the actor's status and Events: the work queue need not log it as a failure. */
    readonly reported = false,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

export class TerminalError extends Error {
  readonly terminal = true;
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

/** Errors a retry may fix: 409, 429 and 5xx of the API server, network errors. Not a broker's (a condition says those). */
export function isRetriable(err: unknown): boolean {
  if (err instanceof TerminalError) return false;
  return err instanceof KubeApiError ? err.status === 409 || err.status === 429 || err.status >= 500 : !(err instanceof TransportError);
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
