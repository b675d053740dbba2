// helm test: the AsyncActor this release made is stored as its values say (the API server kept every field:
// a field the CRD does not know would be pruned), and the operator's reconciler has seen it
// (status.observedGeneration). Node built-ins only.
// Env: NAMESPACE, ACTOR_NAME, EXPECTED (JSON: {labels, annotations, spec}), WAIT_SECONDS;
// outside a pod also KUBE_API, KUBE_TOKEN_FILE, KUBE_CA_FILE.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { isDeepStrictEqual } from 'node:util';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const api = process.env.KUBE_API ?? `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT}`;
const token = readFileSync(process.env.KUBE_TOKEN_FILE ?? `${SA}/token`, 'utf8').trim();
const ca = readFileSync(process.env.KUBE_CA_FILE ?? `${SA}/ca.crt`);
const { NAMESPACE: namespace, ACTOR_NAME: name } = process.env;
const expected = JSON.parse(process.env.EXPECTED ?? '{}');
const waitSeconds = Number(process.env.WAIT_SECONDS ?? '60');

function get(path) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, api), { ca, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Paths under `want` whose value differs in `got` (only the keys `want` has are compared; arrays whole). */
function differences(want, got, path = '') {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    return Object.entries(want).flatMap(([k, v]) => differences(v, got?.[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return [`${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
    return want.flatMap((v, i) => differences(v, got[i], `${path}[${i}]`));
  }
  return isDeepStrictEqual(want, got) ? [] : [`${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

const path = `/apis/asya.sh/v1alpha1/namespaces/${namespace}/asyncactors/${name}`;
const deadline = Date.now() + waitSeconds * 1000;
let failures = [];
for (;;) {
  const { status, body } = await get(path);
  if (status !== 200) failures = [`GET ${path}: HTTP ${status}: ${body?.message ?? ''}`];
  else {
    failures = [
      ...differences(expected.labels ?? {}, body.metadata?.labels, 'metadata.labels'),
      ...differences(expected.annotations ?? {}, body.metadata?.annotations, 'metadata.annotations'),
      ...differences(expected.spec ?? {}, body.spec, 'spec'),
    ];
    if (failures.length > 0) break; // the stored spec does not change by waiting
    const seen = body.status?.observedGeneration;
    if (seen !== undefined && seen >= body.metadata.generation) {
      console.log(`PASS: ${namespace}/${name} stored as configured; reconciled (generation ${seen}, status ${body.status?.status ?? '-'})`);
      process.exit(0);
    }
    failures = [`status.observedGeneration is ${seen ?? 'unset'} (generation ${body.metadata.generation}): is the asya-operator reconciler running?`];
  }
  if (Date.now() > deadline) break;
  await new Promise((r) => setTimeout(r, 2000));
}
for (const f of failures) console.error(`FAIL: ${f}`);
process.exit(1);
