// Where the API server is and how to authenticate, from a kubeconfig file or from inside a pod, as kubectl finds
// them: --kubeconfig, else $KUBECONFIG (its first file), else ~/.kube/config, else the pod's ServiceAccount.
// Ours, not client-node's: importing client-node cost each process about 78 MiB of memory for the two classes
// it used (measured by `npm run bench:e2e -- scale`). Supported credentials: bearer token (inline or file, read
// again as it rotates), client certificate, basic auth, and exec plugins (client.authentication.k8s.io, as
// EKS and GKE use), whose ExecCredential is cached until it expires.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface ClusterAccess {
  /** The API server, e.g. https://10.0.0.1:443 */
  server: URL;
  /** TLS options for https.Agent: ca, cert, key, rejectUnauthorized, servername. */
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** The Authorization header of the next request, if any (re-read or re-fetched when it may have changed). */
  authorization(): Promise<string | undefined>;
  /** Where this came from, for messages: a file and its context, or "in-cluster". */
  source: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again this often (projected ServiceAccount tokens are rotated by the kubelet). */
const TOKEN_FILE_TTL_MS = 60_000;

function tokenFile(path: string): () => Promise<string | undefined> {
  let cached: { value: string; at: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > TOKEN_FILE_TTL_MS) cached = { value: readFileSync(path, 'utf8').trim(), at: Date.now() };
    return `Bearer ${cached.value}`;
  };
}

export function inClusterAccess(dir = SA_DIR, env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not in a pod: KUBERNETES_SERVICE_HOST is not set');
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: { ca: readFileSync(join(dir, 'ca.crt')) },
    authorization: tokenFile(join(dir, 'token')),
    source: 'in-cluster',
  };
}

interface NamedEntry<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

interface ExecConfig {
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  apiVersion?: string;
}

/** Runs an exec credential plugin; its credential is reused until shortly before it expires. */
function execCredential(exec: ExecConfig, baseDir: string): () => Promise<{ token?: string; cert?: string; key?: string }> {
  let cached: { value: { token?: string; cert?: string; key?: string }; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.value;
    const command = exec.command.includes('/') && !isAbsolute(exec.command) ? join(baseDir, exec.command) : exec.command;
    const input = { apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(command, exec.args ?? [], {
        env: { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])), KUBERNETES_EXEC_INFO: JSON.stringify(input) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`credential plugin ${exec.command} exited with ${code}: ${stderr.trim()}`))));
    });
    const status = (JSON.parse(out) as { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } }).status ?? {};
    const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) - 10_000 : Number.POSITIVE_INFINITY;
    cached = { value: { token: status.token, cert: status.clientCertificateData, key: status.clientKeyData }, until: expires };
    return cached.value;
  };
}

/** A kubeconfig file's current context (or `context`). */
export async function kubeconfigAccess(file: string, context?: string): Promise<ClusterAccess> {
  const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as {
    'current-context'?: string;
    contexts?: Array<NamedEntry<{ cluster?: string; user?: string }>>;
    clusters?: Array<NamedEntry<Record<string, unknown>>>;
    users?: Array<NamedEntry<Record<string, unknown>>>;
  };
  const base = dirname(file);
  const name = context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === name)?.context;
  if (!ctx) throw new Error(`${file}: no context ${name ?? '(current-context is not set)'}`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${file}: context ${name} names no cluster with a server`);
  const user = (doc.users?.find((u) => u.name === ctx.user)?.user ?? {}) as Record<string, unknown>;
  const fileOrData = (pathKey: string, dataKey: string, from: Record<string, unknown>): Buffer | undefined => {
    if (typeof from[dataKey] === 'string') return Buffer.from(from[dataKey] as string, 'base64');
    if (typeof from[pathKey] === 'string') {
      const p = from[pathKey] as string;
      return readFileSync(isAbsolute(p) ? p : join(base, p));
    }
    return undefined;
  };
  const tls: ClusterAccess['tls'] = {
    ca: fileOrData('certificate-authority', 'certificate-authority-data', cluster),
    cert: fileOrData('client-certificate', 'client-certificate-data', user),
    key: fileOrData('client-key', 'client-key-data', user),
    ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
    ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] as string } : {}),
  };
  let authorization: ClusterAccess['authorization'] = async () => undefined;
  if (typeof user.token === 'string') {
    const header = `Bearer ${user.token}`;
    authorization = async () => header;
  } else if (typeof user.tokenFile === 'string') {
    authorization = tokenFile(isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile));
  } else if (typeof user.username === 'string') {
    const header = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64')}`;
    authorization = async () => header;
  } else if (user.exec && typeof (user.exec as ExecConfig).command === 'string') {
    const credential = execCredential(user.exec as ExecConfig, base);
    // A plugin that answers with a client certificate: the first answer decides the TLS options.
    const first = await credential();
    if (first.cert && first.key) Object.assign(tls, { cert: Buffer.from(first.cert), key: Buffer.from(first.key) });
    authorization = async () => {
      const c = await credential();
      return c.token ? `Bearer ${c.token}` : undefined;
    };
  }
  return { server: new URL(cluster.server), tls, authorization, source: `${file} (context ${name})` };
}

/** As kubectl: an explicit file, else $KUBECONFIG's first file, else ~/.kube/config, else in-cluster. */
export async function loadClusterAccess(file?: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterAccess> {
  if (file) return kubeconfigAccess(file);
  const fromEnv = (env.KUBECONFIG ?? '').split(':').filter(Boolean).find((f) => existsSync(f));
  if (fromEnv) return kubeconfigAccess(fromEnv);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return kubeconfigAccess(home);
  return inClusterAccess(SA_DIR, env);
}
