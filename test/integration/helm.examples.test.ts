// examples/: every actor in examples/actors is accepted by `asya-webhook validate` (the built CLI) under the
// configuration the operator chart renders (SQS enabled), and every file in examples/invalid is refused with
// exactly the lines its `# expect:` comments give.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { OPERATOR_CHART, ROOT, Rendered, run, template, type K8sObject } from './helm.support.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const VALID = readdirSync(join(ROOT, 'examples/actors')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `examples/actors/${f}`);
const INVALID = readdirSync(join(ROOT, 'examples/invalid')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `examples/invalid/${f}`);

let dir: string;
let configFile: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const operator = new Rendered(await template(OPERATOR_CHART, { values: { transports: { sqs: { enabled: true } } }, withTests: false }));
  const cm = operator.get('ConfigMap', 'asya-operator-config') as K8sObject & { data: Record<string, string> };
  dir = mkdtempSync(join(tmpdir(), 'asya-examples-'));
  configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, cm.data['config.yaml']!);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const validate = (files: string[]) => run(process.execPath, [CLI, 'validate', '-c', configFile, ...files]);

test('the examples the seeds show are all there', () => {
  expect(VALID.map((f) => f.replace('examples/actors/', ''))).toEqual([
    'advanced-scaling.yaml',
    'custom-sidecar.yaml',
    'echo-actor.yaml',
    'gpu-inference.yaml',
    'model-cache-statefulset.yaml',
    'multi-container.yaml',
    'no-scaling.yaml',
    'sqs-actor.yaml',
  ]);
  expect(INVALID.length).toBeGreaterThanOrEqual(8);
});

test('asya-webhook validate accepts every example (one "valid" line each, exit 0)', async () => {
  const res = await validate(VALID);
  const names = VALID.map((f) => (parse(readFileSync(join(ROOT, f), 'utf8')) as { metadata: { name: string } }).metadata.name);
  expect(res.stdout.trim().split('\n').sort()).toEqual(VALID.map((f, i) => `${f}: ${names[i]}: valid`).sort());
  expect(res.code).toBe(0);
});

describe('invalid examples', () => {
  // One CLI run for all of them (each file is validated on its own; output lines start with the file name).
  let lines: string[] = [];
  let code = 0;
  beforeAll(async () => {
    const res = await validate(INVALID);
    lines = res.stdout.trim().split('\n');
    code = res.code;
  });

  test('exit code 1', () => expect(code).toBe(1));

  test.each(INVALID)('%s is refused with exactly the expected messages', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]!);
    expect(expected.length).toBeGreaterThan(0);
    const name = (parse(text) as { metadata: { name: string } }).metadata.name;
    expect(lines.filter((l) => l.startsWith(`${file}: `)).sort()).toEqual(expected.map((e) => `${file}: ${name}: ${e}`).sort());
  });
});
