// Helper of scripts/demo.sh. `demo-review.mjs POD.yaml` prints an AdmissionReview for that pod;
// `demo-review.mjs --show POD.yaml` reads the webhook's answer on stdin and prints the patched pod.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import fjp from 'fast-json-patch';
import { parse, stringify } from 'yaml';

const show = process.argv[2] === '--show';
const pod = parse(readFileSync(process.argv[show ? 3 : 2], 'utf8'));
if (!show) {
  const request = { uid: randomUUID(), kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: pod.metadata?.namespace ?? 'default', operation: 'CREATE', object: pod };
  process.stdout.write(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
} else {
  const review = JSON.parse(readFileSync(0, 'utf8'));
  const { allowed, patch, status } = review.response;
  if (!allowed) {
    console.log(`refused: ${status?.message}`);
    process.exit(1);
  }
  const ops = patch ? JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) : [];
  console.log(`allowed, ${ops.length} patch operations: ${ops.map((o) => `${o.op} ${o.path}`).join(', ')}`);
  console.log('--- injected pod:');
  console.log(stringify(fjp.applyPatch(pod, ops, true, false).newDocument));
}
