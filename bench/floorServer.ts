// The floor of the webhook benchmarks: a bare Node HTTPS server that reads the body and answers a fixed
// AdmissionReview with a small patch. Nothing can answer faster over the same TLS and HTTP stack.
// With --echo-uid it parses the body for the request's uid, which a real API server insists on; with
// --patch-file FILE it answers that (fixed) patch instead of the small one.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [certDir, port] = [process.argv[2]!, Number(process.argv[3])];
const echoUid = process.argv.includes('--echo-uid');
const patchFile = process.argv.indexOf('--patch-file');
const patch = Buffer.from(
  patchFile > 0 ? readFileSync(process.argv[patchFile + 1]!, 'utf8') : JSON.stringify([{ op: 'add', path: '/metadata/annotations', value: { floor: 'true' } }]),
).toString('base64');
const server = https.createServer({ cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')), minVersion: 'TLSv1.2', keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => echoUid && chunks.push(c));
  req.on('end', () => {
    const uid = echoUid ? (JSON.parse(Buffer.concat(chunks).toString()) as { request: { uid: string } }).request.uid : 'fixed';
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, patchType: 'JSONPatch', patch } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
