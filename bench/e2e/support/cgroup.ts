// A process run as in a container with a memory limit: a cgroup (v1 memory controller, as on this machine's
// kernel; v2 where that is what is mounted) with the limit, which the kernel enforces (OOM kill) and Node reads
// (process.constrainedMemory(), so --max-old-space-size-percentage sizes the heap from it, as in the pod).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V1 = '/sys/fs/cgroup/memory';
const V2 = '/sys/fs/cgroup/unified';

export interface MemoryCgroup {
  path: string;
  limitBytes: number;
  /** `cmd args` as a command that first moves itself into the cgroup. */
  wrap(cmd: string, args: string[]): { cmd: string; args: string[] };
  /** Peak usage (memory.max_usage_in_bytes / memory.peak), times the limit was hit, OOM kills. */
  stats(): { peakBytes: number; limitHits: number; oomKills: number };
  remove(): void;
}

function v2Usable(): boolean {
  try {
    return readFileSync(join(V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory');
  } catch {
    return false;
  }
}

/** A new memory cgroup with this limit, or undefined when this machine has no writable memory controller. */
export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | undefined {
  const v1 = existsSync(join(V1, 'memory.limit_in_bytes'));
  const root = v1 ? V1 : v2Usable() ? V2 : undefined;
  if (!root) return undefined;
  const path = join(root, `asya-bench-${name}-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(path);
    writeFileSync(join(path, v1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limitBytes));
  } catch {
    return undefined;
  }
  const read = (f: string): string => {
    try {
      return readFileSync(join(path, f), 'utf8');
    } catch {
      return '';
    }
  };
  const field = (text: string, key: string): number => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    path,
    limitBytes,
    wrap: (cmd, args) => ({ cmd: 'sh', args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', path, cmd, ...args] }),
    stats: () =>
      v1
        ? { peakBytes: Number(read('memory.max_usage_in_bytes')), limitHits: Number(read('memory.failcnt')), oomKills: field(read('memory.oom_control'), 'oom_kill') }
        : { peakBytes: Number(read('memory.peak')), limitHits: field(read('memory.events'), 'max'), oomKills: field(read('memory.events'), 'oom_kill') },
    remove: () => {
      try {
        rmdirSync(path);
      } catch {
        /* still has a process, or gone */
      }
    },
  };
}
