// The container image's runtime stage, repeated without a container engine: package.json and the lock file
// alone in a temporary directory, `npm ci --omit=dev` (as the Dockerfile's deps stage), the compiled dist/src
// copied next to them (as the runtime stage). From there, with the configuration the chart renders:
//   - `serve` answers /healthz, /readyz and /metrics, and AdmissionReviews over HTTPS (checked by the chart's own
//     helm test script and by a pod injection);
//   - `controller` starts, serves /healthz and /metrics, and reports itself not ready while it has no API server.
// Nothing of the devDependencies (TypeScript, jest, the `node` binary package...) may be needed or present.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_CHART, ROOT, Rendered, run, template, type K8sObject } from './helm.support.js';
import { freePort } from '../support/ports.js';

const APP = mkdtempSync(join(tmpdir(), 'asya-image-'));
const CLI = join(APP, 'dist/src/cli/main.js');
const children: ChildProcess[] = [];
const logs = new Map<ChildProcess, string>();


function start(args: string[]): ChildProcess {
  // Only what a container would have: no TS loader, no dev PATH, NODE_ENV=production, cwd = the app dir.
  const child = spawn(process.execPath, [CLI, ...args], { cwd: APP, env: { PATH: '/usr/bin:/bin', NODE_ENV: 'production', HOME: APP }, stdio: ['ignore', 'pipe', 'pipe'] });
  logs.set(child, '');
  const append = (b: Buffer) => logs.set(child, (logs.get(child) ?? '') + b.toString());
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  children.push(child);
  return child;
}

async function waitHttp(url: string, want: number, child: ChildProcess, timeoutMs = 20_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}):\n${logs.get(child)}`);
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === want) return { status: res.status, body };
      last = `${res.status} ${body}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never answered ${want} (last: ${last}):\n${logs.get(child)}`);
}

function postJson(url: string, ca: Buffer, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

let configFile: string;
let ci: { code: number; stderr: string };
beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run npm run build');
  cpSync(join(ROOT, 'package.json'), join(APP, 'package.json'));
  cpSync(join(ROOT, 'package-lock.json'), join(APP, 'package-lock.json'));
  ci = await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: APP, timeoutMs: 240_000 });
  if (ci.code !== 0) {
    // The lock-file test below reports this; install the same production tree another way so that the
    // tests of the compiled output still run.
    const install = await run('npm', ['install', '--omit=dev', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: APP, timeoutMs: 240_000 });
    if (install.code !== 0) throw new Error(`npm install --omit=dev failed:\n${install.stderr}`);
  }
  cpSync(join(ROOT, 'dist/src'), join(APP, 'dist/src'), { recursive: true });
  // runtime.source=local: the runtime script is a file in the container (here, in the app dir).
  writeFileSync(join(APP, 'asya_runtime.py'), 'print("asya runtime")\n');
  const operator = new Rendered(await template(OPERATOR_CHART, { withTests: false, set: [`runtime.local.path=${join(APP, 'asya_runtime.py')}`] }));
  configFile = join(APP, 'config.yaml');
  writeFileSync(configFile, (operator.get('ConfigMap', 'asya-operator-config') as K8sObject & { data: Record<string, string> }).data['config.yaml']!);
}, 300_000);

afterAll(async () => {
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise<void>((r) => (c.once('exit', () => r()), c.kill('SIGKILL'))) : Promise.resolve(),
    ),
  );
  rmSync(APP, { recursive: true, force: true });
});

test('npm ci --omit=dev accepts the committed package-lock.json (the Dockerfile deps stage and .ci/run run npm ci)', () => {
  const firstLines = ci.stderr.split('\n').filter((l) => !l.includes('Missing:')).slice(0, 6).join('\n');
  expect(ci.code === 0 ? 'npm ci: ok' : `npm ci failed: package-lock.json is out of sync with package.json; regenerate it with npm install --package-lock-only\n${firstLines}`).toBe('npm ci: ok');
});

test('the production install has the runtime dependencies and none of the devDependencies', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(APP, 'node_modules', dep, 'package.json'))).toBe(true);
  // The build and test tooling (type packages such as @types/node may come in through a runtime dependency).
  const tooling = Object.keys(pkg.devDependencies).filter((d) => !d.startsWith('@types/'));
  expect(tooling).toEqual(expect.arrayContaining(['node', 'typescript', 'jest']));
  for (const dev of tooling) expect(`${dev}: ${existsSync(join(APP, 'node_modules', dev))}`).toBe(`${dev}: false`);
  expect(existsSync(join(APP, 'node_modules/.bin/node'))).toBe(false);
  expect(existsSync(join(APP, 'node_modules/.bin/tsc'))).toBe(false);
});

test('serve from the production install: health, metrics and an AdmissionReview over HTTPS', async () => {
  const certs = join(APP, 'certs');
  const gen = await run(process.execPath, [CLI, 'certs', '--host', 'localhost', '127.0.0.1', '-o', certs], { cwd: APP, env: { PATH: '/usr/bin:/bin', NODE_ENV: 'production' } });
  expect(gen.code).toBe(0);
  const [port, health, metrics] = [await freePort(), await freePort(), await freePort()];
  const child = start([
    'serve', `--config=${configFile}`, `--cert-dir=${certs}`, `--port=${port}`, `--health-port=${health}`, `--metrics-port=${metrics}`, '--host=127.0.0.1',
    '--actors', join(ROOT, 'examples/actors/echo-actor.yaml'), '--shutdown-delay=0',
  ]);
  await waitHttp(`http://127.0.0.1:${health}/healthz`, 200, child);
  await waitHttp(`http://127.0.0.1:${health}/readyz`, 200, child);
  expect((await waitHttp(`http://127.0.0.1:${metrics}/metrics`, 200, child)).body).toMatch(/^# HELP /m);

  // The chart's helm test script, as the test pod runs it.
  const hook = await run(process.execPath, [join(OPERATOR_CHART, 'files/tests/webhook-answers.mjs')], { env: { PATH: '/usr/bin:/bin', WEBHOOK_URL: `https://localhost:${port}`, CA_FILE: join(certs, 'ca.crt') } });
  expect(hook.stderr).toBe('');
  expect(hook.stdout).toMatch(/^PASS: https:\/\/localhost:\d+ answered over TLS and refused the actor: [^]*asya-runtime/);
  expect(hook.code).toBe(0);

  // A pod of the echo actor is injected.
  const uid = 'c0ffee00-0000-4000-8000-000000000001';
  const res = await postJson(`https://localhost:${port}/mutate/pods`, readFileSync(join(certs, 'ca.crt')), {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'asya',
      operation: 'CREATE',
      userInfo: { username: 'test' },
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'echo-actor-', labels: { 'asya.sh/actor': 'echo-actor' } }, spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13-slim' }] } },
    },
  });
  expect(res.status).toBe(200);
  const response = res.json.response as { uid: string; allowed: boolean; patchType?: string; patch?: string };
  expect(response).toMatchObject({ uid, allowed: true, patchType: 'JSONPatch' });
  expect(Buffer.from(response.patch!, 'base64').toString()).toContain('asya-sidecar');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}, 60_000);

test('controller from the production install: starts, answers /healthz and /metrics, not ready without an API server', async () => {
  const kubeconfig = join(APP, 'kubeconfig');
  // An API server address where nothing listens: the controller must stay up and say why it is not ready.
  const nobody = await freePort();
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${nobody}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  const [health, metrics] = [await freePort(), await freePort()];
  const child = start(['controller', `--config=${configFile}`, `--kubeconfig=${kubeconfig}`, `--health-port=${health}`, `--metrics-port=${metrics}`, '--host=127.0.0.1', '--identity=image-test']);
  await waitHttp(`http://127.0.0.1:${health}/healthz`, 200, child);
  const ready = await fetch(`http://127.0.0.1:${health}/readyz`);
  expect(ready.status).toBe(503);
  expect((await waitHttp(`http://127.0.0.1:${metrics}/metrics`, 200, child)).body).toMatch(/^# HELP /m);
  expect(child.exitCode).toBeNull();
}, 60_000);
