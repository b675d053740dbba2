// The floor of the webhook benchmark: a bare Node HTTPS server that reads the body and answers a fixed
// AdmissionReview with a small patch. Nothing can answer faster over the same TLS and HTTP stack.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [certDir, port] = [process.argv[2]!, Number(process.argv[3])];
const patch = Buffer.from(JSON.stringify([{ op: 'add', path: '/metadata/annotations', value: { floor: 'true' } }])).toString('base64');
const server = https.createServer({ cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')), minVersion: 'TLSv1.2', keepAliveTimeout: 60_000 }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'fixed', allowed: true, patchType: 'JSONPatch', patch } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
