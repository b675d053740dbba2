// The AsyncActor CRD has one source, src/api/crd.ts. The committed copies (manifests/crds/ for kubectl, the
// operator chart's crds/ for helm) must be exactly what it builds: regenerate with
//   npm run build && node scripts/generate-manifests.mjs
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANIFEST = join(ROOT, 'manifests/crds/asya.sh_asyncactors.yaml');
const CHART_COPY = join(ROOT, 'charts/asya-operator/crds/asya.sh_asyncactors.yaml');
const withoutComments = (text: string) => text.replace(/^(#.*\n)+/, '');

test('manifests/crds/asya.sh_asyncactors.yaml is what buildCrd() builds (byte for byte after the header)', () => {
  const committed = readFileSync(MANIFEST, 'utf8');
  expect(committed.startsWith('# Generated from src/api/crd.ts')).toBe(true);
  expect(withoutComments(committed)).toBe(stringify(buildCrd(), { lineWidth: 0 }));
});

test('charts/asya-operator/crds/ holds the identical file', () => {
  expect(readFileSync(CHART_COPY, 'utf8')).toBe(readFileSync(MANIFEST, 'utf8'));
});

test('the comparison is not vacuous: a changed schema would be noticed', () => {
  const crd = buildCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: Record<string, unknown> } } }> } };
  const committed = parse(readFileSync(MANIFEST, 'utf8')) as typeof crd;
  expect(committed.spec.versions[0]!.schema.openAPIV3Schema.properties.spec).toEqual(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec);
  crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec = { type: 'object' };
  expect(stringify(crd, { lineWidth: 0 })).not.toBe(withoutComments(readFileSync(MANIFEST, 'utf8')));
});
