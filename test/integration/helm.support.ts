// Shared by the helm*.test.ts files: the real helm binary (scripts/ci-setup.d/10-helm.sh installs it), a
// small process pool so a matrix of renders runs a few at a time, and the parsed rendered documents.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OPERATOR_CHART = join(ROOT, 'charts', 'asya-operator');
export const ACTOR_CHART = join(ROOT, 'charts', 'asya-actor');
/** helm template has no cluster: the charts need >= 1.27, so say which version to render for. */
export const KUBE_VERSION = '1.33.0';
export const RELEASE_NAMESPACE = 'asya-system';

let helmPath: string | undefined;
export function helm(): string {
  if (helmPath) return helmPath;
  const candidate = process.env.HELM ?? execFileSync('bash', [join(ROOT, 'scripts/ci-setup.d/10-helm.sh'), '--print-path'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  if (!existsSync(candidate)) throw new Error(`helm not found at ${candidate}: run bash scripts/ci-setup.d/10-helm.sh (or set HELM)`);
  helmPath = candidate;
  return candidate;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// At most POOL helm processes at once: the machine has 2 cores shared with other work.
const POOL = 3;
let running = 0;
const waiting: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= POOL) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function runHelm(args: string[]): Promise<RunResult> {
  return slot(() => run(helm(), args));
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export function parseDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((d): d is K8sObject => d !== null && typeof d === 'object');
}

export interface RenderOptions {
  values?: Record<string, unknown>;
  set?: string[];
  release?: string;
  namespace?: string;
  /** Also render the helm test hooks (default true). */
  withTests?: boolean;
}

/** `helm template` with a values file; rejects with helm's stderr on failure. */
export async function template(chart: string, opts: RenderOptions = {}): Promise<K8sObject[]> {
  const r = await templateRaw(chart, opts);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}):\n${r.stderr}`);
  return parseDocs(r.stdout);
}

export async function templateRaw(chart: string, opts: RenderOptions = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'asya-helm-'));
  try {
    const args = ['template', opts.release ?? 'asya-operator', chart, '--namespace', opts.namespace ?? RELEASE_NAMESPACE, '--kube-version', KUBE_VERSION];
    if (opts.values) {
      const file = join(dir, 'values.json');
      writeFileSync(file, JSON.stringify(opts.values));
      args.push('-f', file);
    }
    for (const s of opts.set ?? []) args.push('--set', s);
    if (opts.withTests === false) args.push('--skip-tests');
    return await runHelm(args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class Rendered {
  constructor(readonly docs: K8sObject[]) {}

  all(kind: string): K8sObject[] {
    return this.docs.filter((d) => d.kind === kind);
  }

  find(kind: string, name?: string): K8sObject | undefined {
    return this.docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  }

  get(kind: string, name?: string): K8sObject {
    const d = this.find(kind, name);
    if (!d) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered (have: ${this.docs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
    return d;
  }
}
