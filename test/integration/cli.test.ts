import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
// The built asya-webhook command, run as a user runs it (npm test builds dist/ first).
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// Jest's ESM loader has import.meta.url but not import.meta.dirname.
const HERE = dirname(fileURLToPath(import.meta.url));

const ROOT = join(HERE, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const GOLDEN = join(ROOT, 'test', 'golden', 'injection');

function run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const dirs: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'asya-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('asya-webhook validate', () => {
  test('a valid actor: exit 0', async () => {
    const r = await run(['validate', join(GOLDEN, 'actor-echo.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('actor-echo.yaml: echo: valid');
  });

  test('invalid actors: exit 1 and one line per violation, <field path>: <message>', async () => {
    const dir = tmp();
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `apiVersion: asya.sh/v1alpha1
kind: AsyncActor
metadata: {name: bad}
spec:
  transport: kafka
  scaling: {minReplicas: 3, maxReplicas: 1}
  workload:
    template:
      spec:
        containers:
        - {name: asya-runtime, image: x, command: [python]}
`,
    );
    const r = await run(['validate', file]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      `${file}: bad: spec.workload.template.spec.containers[0].command: must not be set: the command of asya-runtime is [python3, /opt/asya/asya_runtime.py] (set spec.workload.pythonExecutable to change the interpreter)`,
      `${file}: bad: spec.scaling.minReplicas: must be <= spec.scaling.maxReplicas (1)`,
      `${file}: bad: spec.transport: transport "kafka" not found in operator configuration (enabled: rabbitmq, sqs)`,
    ]);
  });

  test('two actors of one file colliding on a queue across namespaces', async () => {
    const text = readFileSync(join(GOLDEN, 'actor-echo.yaml'), 'utf8');
    const r = await run(['validate', '-'], `${text}---\n${text.replace('namespace: team-a', 'namespace: team-b')}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('-: echo: metadata.name: queue "asya-echo" on transport "rabbitmq" is already used by actor team-a/echo');
  });

  test('a bad --config stops with a message naming the key (exit 2)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.yaml'), 'transports:\n  rabbitmq:\n    type: rabbitmq\n    config: {hots: x}\n');
    const r = await run(['validate', '-c', join(dir, 'config.yaml'), join(GOLDEN, 'actor-echo.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('transports.rabbitmq.config.host: is required');
    expect(r.stderr).toContain('transports.rabbitmq.config.hots: unknown field');
  });
});

describe('asya-webhook inject', () => {
  test('a Deployment and a Pod from one multi-document file are printed injected', async () => {
    const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: team-a}
spec:
  selector: {matchLabels: {asya.sh/actor: echo}}
  template:
    metadata: {labels: {asya.sh/actor: echo}}
    spec:
      containers:
      - {name: asya-runtime, image: python:3.13-slim}
`;
    const r = await run(['inject', '-f', '-', '--actors', join(GOLDEN, 'actor-echo.yaml')], `${deployment}---\n${readFileSync(join(GOLDEN, 'basic', 'pod.yaml'), 'utf8')}`);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    expect(docs).toHaveLength(2);
    expect(docs[0].kind).toBe('Deployment');
    expect(docs[0].spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['asya-runtime', 'asya-sidecar']);
    expect(docs[0].spec.template.metadata.annotations['asya.sh/injection-status']).toBeDefined();
    expect(docs[1].spec.containers[0].command).toEqual(['python3', '/opt/asya/asya_runtime.py']);
  });

  test('a pod of an unknown actor: exit 1, reason on stderr, object printed unchanged', async () => {
    const pod = readFileSync(join(GOLDEN, 'deny-unknown-actor', 'pod.yaml'), 'utf8');
    const r = await run(['inject', '-f', '-'], pod);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused: no AsyncActor of that name in the namespace');
    expect(parse(r.stdout)).toEqual(parse(pod));
  });
});

describe('asya-webhook certs and crd', () => {
  test('certs writes a CA and a serving certificate it signs, for the given names', async () => {
    const out = tmp();
    const r = await run(['certs', '--host', 'asya-webhook.asya-system.svc', '127.0.0.1', '-o', out]);
    expect(r.code).toBe(0);
    const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
    const cert = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost('asya-webhook.asya-system.svc')).toBe('asya-webhook.asya-system.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(ca.ca).toBe(true);
  });

  test('crd prints the CustomResourceDefinition', async () => {
    const r = await run(['crd']);
    expect(r.code).toBe(0);
    const crd = parse(r.stdout);
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.spec.names.shortNames).toEqual(['asya', 'asyas']);
  });
});

describe('asya-webhook serve', () => {
  test('refuses to start on a configuration with an unknown key', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.yaml'), 'sidecar:\n  imag: x\n');
    const r = await run(['serve', '--config', join(dir, 'config.yaml'), '--cert-dir', dir, '--actors', join(GOLDEN, 'actor-echo.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sidecar.imag: unknown field');
  });
  test('refuses to start without a usable certificate', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.yaml'), '{}\n');
    const r = await run(['serve', '--config', join(dir, 'config.yaml'), '--cert-dir', dir, '--actors', join(GOLDEN, 'actor-echo.yaml'), '--port', '0', '--health-port', '0', '--metrics-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tls\.crt/);
  });
});
