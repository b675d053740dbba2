// The built reconciler (`asya-webhook controller`), run on the host exactly as the chart runs it in a pod: the
// chart's own arguments with this machine's paths and ports, the chart-rendered configuration file (adapted
// by the caller for loopback brokers) and the kubeconfig of its ServiceAccount (bound by the chart's RBAC).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { tempDir, waitFor } from './cluster.js';
import { REPO, hostArgs } from './helm.js';
import { freePort } from '../../support/ports.js';

export interface ReconcilerProcess {
  healthPort: number;
  metricsPort: number;
  dir: string;
  configFile: string;
  logFile: string;
  /** Starts it; `configYaml` replaces the configuration file first when given. */
  start(configYaml?: string): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
  log(): string;
  /** GET a path of its health or metrics server. */
  get(path: '/healthz' | '/readyz' | '/metrics'): Promise<{ status: number; body: string }>;
}


export async function reconcilerProcess(opts: {
  chartArgs: string[];
  configYaml: string;
  kubeconfig: string;
  env?: Record<string, string>;
  /** What start() waits for: /readyz (default) or /healthz. */
  readyPath?: '/readyz' | '/healthz';
}): Promise<ReconcilerProcess> {
  const dir = tempDir('reconciler-');
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, opts.configYaml);
  const healthPort = await freePort();
  const metricsPort = await freePort();
  const logFile = join(dir, 'reconciler.log');
  const args = hostArgs(opts.chartArgs, { '--config': configFile, '--health-port': healthPort, '--metrics-port': metricsPort });
  let child: ChildProcess | undefined;

  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const port = path === '/metrics' ? metricsPort : healthPort;
      http
        .get(`http://127.0.0.1:${port}${path}`, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });

  const rp: ReconcilerProcess = {
    healthPort,
    metricsPort,
    dir,
    configFile,
    logFile,
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    get: get as ReconcilerProcess['get'],
    async start(configYaml?: string) {
      if (configYaml !== undefined) writeFileSync(configFile, configYaml);
      const log = createWriteStream(logFile, { flags: 'a' });
      child = spawn(process.execPath, [join(REPO, 'dist', 'src', 'cli', 'main.js'), ...args, `--kubeconfig=${opts.kubeconfig}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        // As in the pod: POD_NAME and POD_NAMESPACE from the downward API.
        env: { ...process.env, ...(opts.env ?? {}) },
      });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      const c = child;
      process.once('exit', () => c.kill('SIGKILL'));
      await waitFor(
        'the reconciler to be ready',
        async () => {
          if (c.exitCode !== null) throw new Error(`reconciler exited (${c.exitCode}):\n${rp.log().slice(-3000)}`);
          return (await get(opts.readyPath ?? '/readyz').catch(() => ({ status: 0 }))).status === 200;
        },
        30_000,
      );
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
  };
  return rp;
}
