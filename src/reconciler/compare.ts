// Does a live object still hold what we want of it? Pure. The API server adds defaults (a container's
// terminationMessagePath, a port's protocol, a volume's defaultMode) and rewrites quantities ("1024Mi" is
// stored as "1Gi"), so equality would see drift in every object and write forever. What we compare:
// - objects: every key we set must match; keys only the live object has are someone else's (defaults,
//   annotations of kubectl rollout restart, replicas under KEDA) and are left alone;
// - lists: the same length and each element matching in order (`kubectl set env` adding a variable is drift);
// - scalars: equal, or equal quantities.
import { parseQuantity } from '../util/quantity.js';

// - and a few fields that the API server never defaults, so that their presence can only be someone's edit:
//   in a pod template, a container's env, command, mounts, probes...; they must be absent when we set none.

/** Fields of a pod template that are ours even when we leave them out (the API server never fills them). */
const CONTAINER_FIELDS = new Set(['env', 'envFrom', 'command', 'args', 'workingDir', 'volumeMounts', 'volumeDevices', 'ports', 'lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe', 'securityContext', 'restartPolicy']);
const POD_FIELDS = new Set(['containers', 'initContainers', 'volumes', 'nodeSelector', 'tolerations', 'affinity', 'hostNetwork', 'hostPID', 'hostIPC', 'imagePullSecrets', 'priorityClassName', 'runtimeClassName', 'serviceAccountName', 'topologySpreadConstraints']);
const CONTAINER_PATH = /^\/spec\/template\/spec\/(containers|initContainers)\/\d+\/([^/]+)$/;
const POD_PATH = /^\/spec\/template\/spec\/([^/]+)$/;

function absentMatters(path: string): boolean {
  const c = CONTAINER_PATH.exec(path);
  if (c) return CONTAINER_FIELDS.has(c[2]!);
  const p = POD_PATH.exec(path);
  return !!p && POD_FIELDS.has(p[1]!);
}

/** The JSON path of the first difference, or undefined when `live` holds everything of `desired`. */
export function firstDrift(desired: unknown, live: unknown, path = ''): string | undefined {
  if (desired === undefined) return undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path || '/';
    for (let i = 0; i < desired.length; i++) {
      const d = firstDrift(desired[i], live[i], `${path}/${i}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) {
      // An empty object we set (emptyDir: {}) may be stored as such or dropped by nobody: treat {} as {}.
      return path || '/';
    }
    for (const [k, v] of Object.entries(desired as Record<string, unknown>)) {
      const d = firstDrift(v, (live as Record<string, unknown>)[k], `${path}/${k}`);
      if (d !== undefined) return d;
    }
    for (const k of Object.keys(live as Record<string, unknown>)) {
      if (!(k in (desired as Record<string, unknown>)) && absentMatters(`${path}/${k}`)) return `${path}/${k}`;
    }
    return undefined;
  }
  if (desired === live) return undefined;
  if ((typeof desired === 'string' || typeof desired === 'number') && (typeof live === 'string' || typeof live === 'number')) {
    const a = parseQuantity(desired);
    const b = parseQuantity(live);
    if (a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12) return undefined;
  }
  return path || '/';
}
