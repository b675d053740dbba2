// examples/: every actor in examples/actors is accepted by `asya-webhook validate` (the built CLI) under the
// configuration the operator chart renders (SQS enabled), and every file in examples/invalid is refused with
// exactly the lines its `# expect:` comments give.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ACTOR_CHART, OPERATOR_CHART, ROOT, Rendered, run, template, type K8sObject } from './helm.support.js';

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

describe('end actors (examples/end-actors) through the actor chart', () => {
  test.each(['happy-end', 'error-end'])('%s renders an AsyncActor of that name with upstream\'s handler, accepted by validate', async (role) => {
    const values = parse(readFileSync(join(ROOT, `examples/end-actors/${role}.values.yaml`), 'utf8')) as Record<string, unknown>;
    const actor = (await template(ACTOR_CHART, { values, release: 'whatever', namespace: 'flows', withTests: false })).find((o) => o.kind === 'AsyncActor')!;
    // The name the sidecars route to, whatever the release is called.
    expect(actor.metadata.name).toBe(role);
    const container = (actor as any).spec.workload.template.spec.containers[0];
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'ASYA_HANDLER', value: `handlers.end_handlers.${role.replace('-end', '')}_end_handler` },
        { name: 'ASYA_HANDLER_MODE', value: 'envelope' },
      ]),
    );
    const file = join(dir, `${role}.yaml`);
    writeFileSync(file, JSON.stringify(actor));
    const res = await validate([file]);
    expect(res.stdout.trim()).toBe(`${file}: ${role}: valid`);
  });
});
