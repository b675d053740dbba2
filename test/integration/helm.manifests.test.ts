// manifests/asya-operator.yaml is the chart rendered with its defaults (a plain `kubectl apply -f` install):
// it must be current. Regenerate with: npm run build && node scripts/generate-manifests.mjs
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { ROOT, helm, parseDocs, run } from './helm.support.js';

test('node scripts/generate-manifests.mjs --check: every generated file is current', async () => {
  const res = await run(process.execPath, [join(ROOT, 'scripts/generate-manifests.mjs'), '--check'], { env: { ...process.env, HELM: helm() } });
  expect(res.stderr).toBe('');
  expect(res.stdout).toContain('manifests are up to date');
  expect(res.code).toBe(0);
}, 60_000);

test('manifests/asya-operator.yaml: a Namespace first, everything namespaced in asya-system, no helm test hooks, not labelled as managed by Helm', () => {
  const docs = parseDocs(readFileSync(join(ROOT, 'manifests/asya-operator.yaml'), 'utf8'));
  expect(docs[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'asya-system' } });
  const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  for (const d of docs) {
    if (!clusterScoped.has(d.kind)) expect(`${d.kind}/${d.metadata.name}: ${d.metadata.namespace}`).toBe(`${d.kind}/${d.metadata.name}: asya-system`);
    expect(d.metadata.annotations?.['helm.sh/hook']).toBeUndefined();
    expect(d.metadata.labels?.['app.kubernetes.io/managed-by']).not.toBe('Helm');
  }
  const kinds = docs.map((d) => d.kind);
  for (const k of ['Deployment', 'Service', 'Certificate', 'Issuer', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PodDisruptionBudget']) expect(kinds).toContain(k);
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'asya-operator-config') as { data: Record<string, string> } | undefined;
  expect(() => parseConfigText(cm!.data['config.yaml']!)).not.toThrow();
});
