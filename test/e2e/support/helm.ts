import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
// The real helm binary (built by scripts/e2e-tools.sh) rendering this repository's charts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cluster } from './cluster.js';

// Jest's ESM loader has import.meta.url but not import.meta.dirname.
const HERE = dirname(fileURLToPath(import.meta.url));

export const REPO = join(HERE, '..', '..', '..');

export function helm(args: string[], opts: { kubeconfig?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      join(cluster.binDir, 'helm'),
      [...args, ...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : [])],
      { cwd: REPO, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: any;
}

/** `helm template` of a chart of this repository, parsed. */
export async function renderChart(chart: string, release: string, namespace: string, set: Record<string, string | boolean | number>): Promise<K8sObject[]> {
  // helm template assumes Kubernetes v1.20 without a cluster: render for the control plane's version.
  const args = ['template', release, join('charts', chart), '--namespace', namespace, '--kube-version', '1.37.2'];
  for (const [k, v] of Object.entries(set)) args.push(typeof v === 'string' ? '--set-string' : '--set', `${k}=${String(v)}`);
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm template ${chart} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject)
    .filter((o) => o && typeof o === 'object');
}

export const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

/**
 * A container's arguments as the chart renders them, for the same program run on this machine: the flags in
 * `replace` get this machine's values (files, ports), and it listens on loopback.
 */
export function hostArgs(chartArgs: string[], replace: Record<string, string | number>): string[] {
  return [
    ...chartArgs.map((a) => {
      const [flag] = a.split('=');
      return flag && replace[flag] !== undefined ? `${flag}=${replace[flag]}` : a;
    }),
    '--host=127.0.0.1',
  ];
}
