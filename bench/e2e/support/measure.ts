// What the e2e benchmarks measure of a process or a control plane, without Jest: the admin API over one
// keep-alive agent, API requests per ServiceAccount and verb (API Priority and Fairness FlowSchemas), a
// process's CPU and memory from /proc, Prometheus text from a /metrics endpoint, queue existence in RabbitMQ
// (passive declares), ServiceAccount kubeconfigs, and the statistics the tables print.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { stringify } from 'yaml';
import { dispatchedByFlowSchema, flowSchema } from '../../../test/e2e/support/apiCounts.js';
import { writeTokenKubeconfig } from '../../../test/e2e/support/cluster.js';
import type { ControlPlane } from '../../../test/e2e/support/controlPlane.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository (this file runs from dist/bench/e2e/support). */
export const REPO = join(here, '..', '..', '..', '..');
/** The built CLI. */
export const CLI = join(here, '..', '..', '..', 'src', 'cli', 'main.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function pct(xs: number[], p: number): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
export function median(xs: number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function e2eBinDir(): string {
  return process.env.ASYA_E2E_BIN_DIR ?? execFileSync('bash', [join(REPO, 'scripts', 'e2e-tools.sh'), '--print-bin-dir'], { encoding: 'utf8' }).trim().split('\n').pop()!;
}

/** The admin's view of the API server, over one keep-alive agent. */
export class Api {
  readonly agent: https.Agent;
  constructor(
    readonly cp: ControlPlane,
    maxSockets = 16,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets, ca: readFileSync(cp.caFile) });
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, this.cp.server),
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.cp.token}`,
            accept: 'application/json',
            'content-type': 'application/json',
            ...(payload ? { 'content-length': String(Buffer.byteLength(payload)) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async ok(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
    const r = await this.request(method, path, body, headers);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.slice(0, 400)}`);
    return r.body ? JSON.parse(r.body) : undefined;
  }

  /** Names of the objects of a list path, metadata only (cheap for the API server and for us). */
  async names(path: string): Promise<string[]> {
    const list = await this.ok('GET', path, undefined, { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' });
    return ((list.items ?? []) as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name);
  }

  /** Runs `fn` over `items` with `concurrency` requests in flight. */
  static async pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, items.length) }, async () => {
        while (next < items.length) await fn(items[next++]!);
      }),
    );
  }

  /** The API server's /metrics, as Prometheus text. */
  async metricsText(): Promise<string> {
    const r = await this.request('GET', '/metrics', undefined, { accept: 'text/plain' });
    return r.body;
  }

  close(): void {
    this.agent.destroy();
  }
}

export const READ_VERBS = ['get', 'list', 'watch'] as const;
export const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;
export const VERBS = [...READ_VERBS, ...WRITE_VERBS];

/**
 * One FlowSchema per verb matching exactly ServiceAccount ns/name (test/e2e/support/apiCounts.ts), so that its
 * requests are counted per verb in apiserver_flowcontrol_dispatched_requests_total{flow_schema="<prefix>-<verb>"}.
 */
export function flowSchemas(prefix: string, namespace: string, name: string, precedence = 500): object[] {
  return VERBS.map((verb, i) => flowSchema(`${prefix}-${verb}`, { namespace, name }, { verbs: [verb] }, precedence + i));
}

/** Requests dispatched per FlowSchema. */
export async function flowCounts(api: Api): Promise<Map<string, number>> {
  return dispatchedByFlowSchema(await api.metricsText());
}

export interface VerbCounts {
  reads: number;
  writes: number;
  byVerb: Record<string, number>;
}
/** Requests of FlowSchemas `<prefix>-<verb>` between two flowCounts snapshots. */
export function verbDelta(prefix: string, a: Map<string, number>, b: Map<string, number>): VerbCounts {
  const byVerb: Record<string, number> = {};
  for (const v of VERBS) byVerb[v] = (b.get(`${prefix}-${v}`) ?? 0) - (a.get(`${prefix}-${v}`) ?? 0);
  return {
    reads: READ_VERBS.reduce((s, v) => s + byVerb[v]!, 0),
    writes: WRITE_VERBS.reduce((s, v) => s + byVerb[v]!, 0),
    byVerb,
  };
}
export const addCounts = (x: VerbCounts, y: VerbCounts): VerbCounts => ({
  reads: x.reads + y.reads,
  writes: x.writes + y.writes,
  byVerb: Object.fromEntries(VERBS.map((v) => [v, (x.byVerb[v] ?? 0) + (y.byVerb[v] ?? 0)])),
});

/** A kubeconfig that authenticates as ServiceAccount ns/name with a TokenRequest token. */
export async function serviceAccountKubeconfig(cp: ControlPlane, dir: string, namespace: string, name: string): Promise<string> {
  const r = await cp.kubectl(['create', 'token', name, '-n', namespace, '--duration', '6h']);
  if (r.code !== 0) throw new Error(`kubectl create token ${namespace}/${name}: ${r.stderr}`);
  return writeTokenKubeconfig(dir, { server: cp.server, caFile: cp.caFile, token: r.stdout.trim(), namespace, user: name });
}

export async function kubectlApply(cp: ControlPlane, objects: object[], serverSide = true): Promise<void> {
  const r = await cp.kubectl(['apply', ...(serverSide ? ['--server-side', '--force-conflicts', '--field-manager=asya-bench'] : []), '-f', '-'], {
    input: objects.map((o) => stringify(o)).join('---\n'),
  });
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** CPU seconds (user + system) and memory of a live process, from /proc. */
export interface ProcSample {
  cpuS: number;
  rssMB: number;
  hwmMB: number;
}
const CLK_TCK = 100;
export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuS, rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}
export function procsSample(pids: number[]): ProcSample {
  return pids.map(procSample).reduce((a, b) => ({ cpuS: a.cpuS + b.cpuS, rssMB: a.rssMB + b.rssMB, hwmMB: a.hwmMB + b.hwmMB }), { cpuS: 0, rssMB: 0, hwmMB: 0 });
}

/** Prometheus text of http://host:port/metrics, as metric name (labels dropped, summed) -> value. */
export async function promMetrics(port: number, host = '127.0.0.1'): Promise<Map<string, number>> {
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get(`http://${host}:${port}/metrics`, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    out.set(name, (out.get(name) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

export async function waitHttpOk(url: string, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`process exited before ${url} answered`);
    const ok = await new Promise<boolean>((r) => http.get(url, (res) => (res.resume(), r(res.statusCode === 200))).on('error', () => r(false)));
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

/**
 * Which queues exist, by passive declare: one AMQP connection; a passive declare of a missing queue closes its
 * channel (404), so each miss opens a new one.
 */
export class QueueProbe {
  private constructor(private readonly conn: amqp.ChannelModel) {}
  static async open(url: string): Promise<QueueProbe> {
    const conn = await amqp.connect(url);
    conn.on('error', () => undefined);
    return new QueueProbe(conn);
  }

  async existing(names: string[], concurrency = 8): Promise<Set<string>> {
    const found = new Set<string>();
    await Api.pool(names, concurrency, async (name) => {
      const ch = await this.conn.createChannel();
      ch.on('error', () => undefined);
      try {
        await ch.checkQueue(name);
        found.add(name);
        await ch.close();
      } catch {
        /* 404: the channel is closed by the broker */
      }
    });
    return found;
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
