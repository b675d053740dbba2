// The built webhook, run on the host exactly as the chart runs it in a pod: the chart's own arguments and
// rendered configuration file, with paths and ports for this machine, and the kubeconfig of its
// ServiceAccount (bound by the chart's RBAC).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { generateCertificates, type GeneratedCerts } from '../../../src/certs/generate.js';
import { freePort } from '../../support/ports.js';
import { applyObjects, tempDir, waitFor } from './cluster.js';
import { REPO, hostArgs, type K8sObject } from './helm.js';


/**
 * Applies the chart's webhook configurations (rendered with webhook.url) so that the API server calls the
 * webhook at `url` (scheme, host and port; each webhook keeps its path) and trusts `caPem`.
 */
export async function registerWebhooks(configs: K8sObject[], url: string, caPem: string): Promise<void> {
  const caBundle = Buffer.from(caPem).toString('base64');
  const objs = structuredClone(configs);
  for (const o of objs) for (const w of o.webhooks) w.clientConfig = { url: `${url}${new URL(w.clientConfig.url).pathname}`, caBundle };
  await applyObjects(objs);
}

export interface WebhookProcess {
  port: number;
  healthPort: number;
  certs: GeneratedCerts;
  dir: string;
  logFile: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Replaces its configuration file (read at start). */
  setConfig(configYaml: string): void;
  readonly running: boolean;
}


export async function webhookProcess(opts: { chartArgs: string[]; configYaml: string; kubeconfig: string }): Promise<WebhookProcess> {
  const dir = tempDir('webhook-');
  const certs = generateCertificates({ hosts: ['127.0.0.1', 'localhost'] });
  writeFileSync(join(dir, 'tls.crt'), certs.cert);
  writeFileSync(join(dir, 'tls.key'), certs.key);
  writeFileSync(join(dir, 'config.yaml'), opts.configYaml);
  const port = await freePort();
  const healthPort = await freePort();
  const logFile = join(dir, 'webhook.log');
  let child: ChildProcess | undefined;
  const args = [...hostArgs(opts.chartArgs, { '--config': join(dir, 'config.yaml'), '--cert-dir': dir, '--port': port, '--health-port': healthPort, '--metrics-port': healthPort }), '--shutdown-delay=0'];

  const ready = () =>
    new Promise<boolean>((resolve) => {
      http.get(`http://127.0.0.1:${healthPort}/readyz`, (res) => resolve(res.statusCode === 200)).on('error', () => resolve(false));
    });

  const wp: WebhookProcess = {
    port,
    healthPort,
    certs,
    dir,
    logFile,
    get running() {
      return !!child && child.exitCode === null;
    },
    async start() {
      const log = createWriteStream(logFile, { flags: 'a' });
      child = spawn(process.execPath, [join(REPO, 'dist', 'src', 'cli', 'main.js'), ...args, `--kubeconfig=${opts.kubeconfig}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      const c = child;
      process.once('exit', () => c.kill('SIGKILL'));
      await waitFor('the webhook to be ready', async () => {
        if (c.exitCode !== null) throw new Error(`webhook exited (${c.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
        return ready();
      }, 30_000);
    },
    setConfig(configYaml: string) {
      writeFileSync(join(dir, 'config.yaml'), configYaml);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
    },
  };
  return wp;
}
