// helm test: the API server sends AsyncActors to the webhook. A server-side dry run (nothing is stored) of an
// AsyncActor without its asya-runtime container must be refused by validate.asyncactors.asya.sh, which
// proves the webhook configuration, its caBundle and the Service all work. Node built-ins only.
// Env: NAMESPACE (where the dry run is made), and for use outside a pod KUBE_API, KUBE_TOKEN_FILE, KUBE_CA_FILE.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const api = process.env.KUBE_API ?? `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT}`;
const token = readFileSync(process.env.KUBE_TOKEN_FILE ?? `${SA}/token`, 'utf8').trim();
const ca = readFileSync(process.env.KUBE_CA_FILE ?? `${SA}/ca.crt`);
const namespace = process.env.NAMESPACE ?? 'default';
const url = new URL(`/apis/asya.sh/v1alpha1/namespaces/${namespace}/asyncactors?dryRun=All`, api);
const actor = {
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name: 'asya-helm-test', namespace },
  spec: { transport: 'helm-test', workload: { template: { spec: { containers: [{ name: 'not-the-runtime', image: 'busybox' }] } } } },
};

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

const body = JSON.stringify(actor);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
const req = request(url, { method: 'POST', ca, headers, timeout: 20_000 }, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c) => (text += c));
  res.on('end', () => {
    let status;
    try {
      status = JSON.parse(text);
    } catch {
      fail(`HTTP ${res.statusCode}, not JSON: ${text.slice(0, 500)}`);
    }
    const message = status?.message ?? '';
    if (res.statusCode === 201 || res.statusCode === 200) fail('the API server accepted an AsyncActor without asya-runtime: is the webhook configuration installed?');
    if (message.includes('failed calling webhook')) fail(`the API server could not call the webhook: ${message}`);
    if (!message.includes('validate.asyncactors.asya.sh') || !message.includes('asya-runtime')) {
      fail(`HTTP ${res.statusCode}, not refused by the webhook: ${message || text.slice(0, 500)}`);
    }
    console.log(`PASS: the API server called the webhook, which refused the actor: ${message}`);
  });
});
req.on('timeout', () => req.destroy(new Error('timed out after 20s')));
req.on('error', (err) => fail(`${url.origin}: ${err.message}`));
req.end(body);
