// Small pieces both transport plugins use (src/transports/<type>/index.ts).
import type { EnvVar } from '../schema/kubernetes.js';

/** How long a `check` probe waits for the broker. */
export const PROBE_TIMEOUT_MS = 8000;

/** An env var read from a Secret key: the value never appears in the pod spec. */
export function secretEnv(name: string, ref: { name: string; key: string }): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

/** `p`, or an error naming `what` when the broker does not answer within PROBE_TIMEOUT_MS. */
export async function withProbeTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${PROBE_TIMEOUT_MS / 1000}s`)), PROBE_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}
