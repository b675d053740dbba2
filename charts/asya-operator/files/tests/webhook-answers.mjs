// helm test: the webhook answers an AdmissionReview over TLS, with a certificate the chart's CA verifies,
// and refuses an AsyncActor without its asya-runtime container. Node built-ins only.
// Env: WEBHOOK_URL (https://<service>.<namespace>.svc:443), CA_FILE (PEM).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { randomUUID } from 'node:crypto';

const url = new URL('/validate/asyncactors', process.env.WEBHOOK_URL);
const ca = readFileSync(process.env.CA_FILE ?? '/var/run/asya/ca/ca.crt');
const uid = randomUUID();
const actor = {
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name: 'helm-test-actor', namespace: 'default' },
  spec: { transport: 'helm-test', workload: { template: { spec: { containers: [{ name: 'not-the-runtime', image: 'busybox' }] } } } },
};
const review = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: 'asya.sh', version: 'v1alpha1', kind: 'AsyncActor' },
    resource: { group: 'asya.sh', version: 'v1alpha1', resource: 'asyncactors' },
    name: actor.metadata.name,
    namespace: actor.metadata.namespace,
    operation: 'CREATE',
    userInfo: { username: 'helm-test' },
    object: actor,
    dryRun: true,
  },
};

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

const body = JSON.stringify(review);
const req = request(url, { method: 'POST', ca, timeout: 10_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c) => (text += c));
  res.on('end', () => {
    if (res.statusCode !== 200) fail(`${url}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`);
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      fail(`${url}: not JSON: ${text.slice(0, 500)}`);
    }
    const r = answer?.response;
    if (r?.uid !== uid) fail(`response.uid is ${JSON.stringify(r?.uid)}, expected ${uid}`);
    if (r.allowed !== false) fail(`an AsyncActor without asya-runtime was allowed: ${text.slice(0, 500)}`);
    const message = r.status?.message ?? '';
    if (!message.includes('asya-runtime')) fail(`denial does not name asya-runtime: ${message}`);
    console.log(`PASS: ${url.origin} answered over TLS and refused the actor: ${message}`);
  });
});
req.on('timeout', () => req.destroy(new Error('timed out after 10s')));
req.on('error', (err) => fail(`${url}: ${err.message}`));
req.end(body);
