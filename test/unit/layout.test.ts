// The layout is the architecture (README "Where things are"): these rules keep it so, read from the static
// imports of src/ (`import type` and dynamic `import()` do not load a module at start, so they are not edges).
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Value imports of a file: relative ones resolved to .ts paths, packages by name. */
function imports(file: string): { files: string[]; packages: string[] } {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)';/gms)].map((m) => m[1]!);
  specs.push(...[...text.matchAll(/^import\s+'([^']+)';/gm)].map((m) => m[1]!));
  const files = specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  const packages = specs.filter((s) => !s.startsWith('.')).map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
  return { files, packages };
}

const all = sources(SRC);
const rel = (f: string) => relative(ROOT, f);

/** Every module a process loads at start from this entry, with the packages each one imports. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    const { files, packages } = imports(f);
    seen.set(f, packages);
    files.forEach(visit);
  };
  visit(join(SRC, entry));
  return seen;
}

test('src imports nothing from test/ or bench/ (the image holds dist/src only; the in-memory API server is test kit)', () => {
  const outside = all.flatMap((f) => imports(f).files.filter((t) => !t.startsWith(SRC + '/')).map((t) => `${rel(f)} -> ${rel(t)}`));
  expect(outside).toEqual([]);
  expect(all.map(rel)).not.toContain('src/kube/memory.ts');
});

describe('the pure core loads no I/O', () => {
  const IO = ['express', 'amqplib', '@aws-sdk/client-sqs', 'node:http', 'node:https', 'node:net', 'node:tls', 'node:child_process', 'winston', 'prom-client'];
  test.each(['api', 'schema', 'injection', 'workloads', 'charts'])('src/%s', (folder) => {
    const offenders: string[] = [];
    for (const f of all.filter((x) => x.startsWith(join(SRC, folder) + '/'))) {
      for (const [mod, pkgs] of graph(relative(SRC, f))) for (const p of pkgs.filter((x) => IO.includes(x))) offenders.push(`${rel(f)} loads ${p} via ${rel(mod)}`);
    }
    expect(offenders).toEqual([]);
  });
});

test('config does not import api (api reads the configuration, not the reverse)', () => {
  const back = all.filter((f) => f.startsWith(join(SRC, 'config') + '/')).flatMap((f) => imports(f).files.filter((t) => t.startsWith(join(SRC, 'api') + '/')).map((t) => `${rel(f)} -> ${rel(t)}`));
  expect(back).toEqual([]);
});

test('the webhook process does not load the broker libraries (they load with the reconciler\'s transport clients)', () => {
  const loaded = [...graph('cli/commands/serve.ts')].flatMap(([f, pkgs]) => pkgs.filter((p) => p === 'amqplib' || p.startsWith('@aws-sdk/')).map((p) => `${rel(f)} loads ${p}`));
  expect(loaded).toEqual([]);
  // The rule can fail: the reconciler's transport clients do load them.
  const clients = [...graph('transports/rabbitmq/client.ts'), ...graph('transports/sqs/client.ts')].flatMap(([, p]) => p);
  expect(clients).toEqual(expect.arrayContaining(['amqplib', '@aws-sdk/client-sqs']));
});
