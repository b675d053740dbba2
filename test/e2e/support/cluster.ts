// What an e2e test file needs of the shared control plane: kubectl, server-side apply, and kubeconfigs for
// ServiceAccounts (each of our processes runs with its own token, bound by the chart's RBAC, never as admin).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FINALIZER } from '../../../src/names.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: e2e tests run under the e2e jest project (test/e2e/support/globalSetup.ts)`);
  return v;
}

export const cluster = {
  get kubeconfig() {
    return env('ASYA_E2E_KUBECONFIG');
  },
  get server() {
    return env('ASYA_E2E_SERVER');
  },
  get caFile() {
    return env('ASYA_E2E_CA_FILE');
  },
  /** The suite's admin token (for what kubectl does not reach, such as /metrics). */
  get token() {
    return env('ASYA_E2E_TOKEN');
  },
  get binDir() {
    return env('ASYA_E2E_BIN_DIR');
  },
  get dir() {
    return env('ASYA_E2E_DIR');
  },
};

/**
 * The e2e node (support/node.ts) that globalSetup starts with the control plane: pods are scheduled, pull
 * nothing (images are imported; a missing one fails at once) and run. Pods reach the host only at `node.ip`.
 */
export const node = {
  /** `localhost`: the node's name (spec.nodeName of every scheduled pod). */
  get name() {
    return env('ASYA_E2E_NODE_NAME');
  },
  /** Gateway of the pod network and node IP (status.hostIP): where a pod reaches a server of the host. */
  get ip() {
    return env('ASYA_E2E_NODE_IP');
  },
  /** The pod network, e.g. 10.213.7.0/24. */
  get subnet() {
    return env('ASYA_E2E_NODE_SUBNET');
  },
  get dir() {
    return env('ASYA_E2E_NODE_DIR');
  },
  /** The upstream Asya copy the sidecar and crew images come from (`src/asya-runtime/asya_runtime.py`). */
  get upstreamDir() {
    return env('ASYA_E2E_UPSTREAM_DIR');
  },
  /** The node's own containerd (`ctr --address <it> -n k8s.io ...`). */
  get containerdSocket() {
    return env('ASYA_E2E_CONTAINERD_SOCK');
  },
  /** Image references for pod specs (all present on the node, never pulled). */
  images: {
    get pause() {
      return env('ASYA_E2E_IMAGE_PAUSE');
    },
    /** The upstream Asya sidecar (entrypoint /app/sidecar, user 1000). */
    get sidecar() {
      return env('ASYA_E2E_IMAGE_SIDECAR');
    },
    /** Python 3.13 on Debian bookworm; test/e2e/node/handlers/* on its PYTHONPATH (ASYA_HANDLER=echo.process). */
    get python() {
      return env('ASYA_E2E_IMAGE_PYTHON');
    },
    /** The same Python with upstream asya-crew's handlers package in /app (handlers.end_handlers.happy_end_handler). */
    get crew() {
      return env('ASYA_E2E_IMAGE_CREW');
    },
  },
  /**
   * Adds an image `ref` to the node: the python image's root file system plus `files` (paths relative to the
   * handlers dir on PYTHONPATH, or absolute), e.g. `addPythonImage('asya-python:mine', { 'mine.py': src })`.
   */
  async addPythonImage(ref: string, files: Record<string, string | Buffer>, opts: { env?: string[]; workingDir?: string } = {}): Promise<void> {
    const { importPythonImage } = await import('./node.js');
    await importPythonImage(env('ASYA_E2E_CONTAINERD_SOCK'), ref, files, opts);
  },
};

export function kubectl(args: string[], opts: { input?: string; kubeconfig?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      join(cluster.binDir, 'kubectl'),
      ['--kubeconfig', opts.kubeconfig ?? cluster.kubeconfig, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
    child.stdin?.end(opts.input ?? '');
  });
}

/** kubectl that throws with its stderr when it fails. */
export async function kubectlOk(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function applyObjects(objects: unknown[], opts: { kubeconfig?: string; serverSide?: boolean } = {}): Promise<string> {
  const input = objects.map((o) => stringify(o)).join('---\n');
  return kubectlOk(['apply', ...(opts.serverSide === false ? [] : ['--server-side', '--force-conflicts']), '-f', '-'], { input, kubeconfig: opts.kubeconfig });
}

export async function getJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk(['get', ...args, '-o', 'json'])) as T;
}

/** A kubeconfig that authenticates as ServiceAccount ns/name with a TokenRequest token. */
/**
 * Takes the reconciler's finalizer off every AsyncActor that still carries it; the number released. Each file
 * calls it once its reconciler has stopped: files run one at a time, so no reconciler is left to finalize
 * those actors (their broker may be gone too), and they would hold their namespace's deletion, and a later
 * file's deletion of the CRD, for ever.
 */
export async function releaseActors(): Promise<number> {
  const actors = await getJson<{ items: any[] }>(['asyncactors', '--all-namespaces']).catch(() => ({ items: [] as any[] }));
  let released = 0;
  for (const a of actors.items) {
    const finalizers = (a.metadata.finalizers ?? []) as string[];
    if (!finalizers.includes(FINALIZER)) continue;
    const patch = JSON.stringify({ metadata: { finalizers: finalizers.filter((f) => f !== FINALIZER) } });
    if ((await kubectl(['patch', 'asyncactors', '-n', a.metadata.namespace, a.metadata.name, '--type=merge', '-p', patch])).code === 0) {
      released++;
      // Said, because an actor a reconciler could not finalize may be a bug worth a look.
      console.log(`released AsyncActor ${a.metadata.namespace}/${a.metadata.name} (${a.metadata.deletionTimestamp ? `being deleted since ${a.metadata.deletionTimestamp}` : 'not being deleted'}; conditions: ${JSON.stringify((a.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status} ${c.reason}`))})`);
    }
  }
  return released;
}

/**
 * Deletes a file's namespaces and waits (up to 2 minutes) until no AsyncActor is left in them; pods may still
 * be terminating. Queue names leave out the namespace, so the next file's actors of the same names would be
 * refused while these exist. Call it after releaseActors, once the file's reconciler is stopped.
 */
export async function deleteNamespaces(namespaces: string[]): Promise<void> {
  await kubectl(['delete', 'namespace', ...namespaces, '--ignore-not-found', '--wait=false']);
  const left = async () => {
    const names: string[] = [];
    for (const ns of namespaces) names.push(...(await kubectl(['get', 'asyncactors', '-n', ns, '-o', 'name'])).stdout.split('\n').filter(Boolean).map((n) => `${ns}/${n}`));
    return names;
  };
  const deadline = Date.now() + 120_000;
  for (let names = await left(); names.length > 0; names = await left()) {
    if (Date.now() > deadline) {
      console.log(`AsyncActors still there 2 minutes after their namespaces were deleted: ${names.join(', ')}`);
      return;
    }
    await sleep(500);
  }
}

/**
 * A new directory inside this run's control-plane directory: removed with the control plane at the end of the
 * run (kept, with everything else, under ASYA_E2E_KEEP=1), where one in /tmp would be left behind.
 */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(cluster.dir, prefix));
}

export async function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  const token = (await kubectlOk(['create', 'token', name, '-n', namespace, '--duration', '2h'])).trim();
  return writeTokenKubeconfig(tempDir('sa-'), { server: cluster.server, caFile: cluster.caFile, token, namespace, user: name });
}

/** `<dir>/<namespace>-<user>.kubeconfig` (mode 0600): a bearer token for the API server, default namespace `namespace`. */
export function writeTokenKubeconfig(dir: string, o: { server: string; caFile: string; token: string; namespace: string; user: string }): string {
  const file = join(dir, `${o.namespace}-${o.user}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster: { server: o.server, 'certificate-authority': o.caFile } }],
      users: [{ name: o.user, user: { token: o.token } }],
      contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: o.user, namespace: o.namespace } }],
      'current-context': 'e2e',
    }),
    { mode: 0o600 },
  );
  return file;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
