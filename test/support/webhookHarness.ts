// Starts the real HTTPS webhook server on a free loopback port with freshly generated certificates, and
// talks to it with a real HTTPS client that verifies the server against the generated CA.
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorIndex } from '../../src/api/actorIndex.js';
import type { AsyncActor } from '../../src/api/schema.js';
import { generateCertificates, type GeneratedCerts } from '../../src/certs/generate.js';
import { parseConfig } from '../../src/config/load.js';
import type { OperatorConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { WebhookMetrics } from '../../src/webhook/metrics.js';
import { WebhookServer } from '../../src/webhook/server.js';

export const TEST_CONFIG = {
  transports: {
    rabbitmq: { type: 'rabbitmq', config: { host: 'rabbit', passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' } } },
    sqs: { type: 'sqs', config: { region: 'us-east-1' } },
  },
};

export function writeCerts(dir: string, certs: GeneratedCerts): void {
  writeFileSync(join(dir, 'tls.crt'), certs.cert);
  writeFileSync(join(dir, 'tls.key'), certs.key);
  writeFileSync(join(dir, 'ca.crt'), certs.caCert);
}

export interface Harness {
  port: number;
  ca: string;
  certDir: string;
  certs: GeneratedCerts;
  server: WebhookServer;
  actors: ActorIndex;
  metrics: WebhookMetrics;
  config: OperatorConfig;
  agent: https.Agent;
  post(path: string, body: unknown, opts?: { raw?: string | Buffer; ca?: string }): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startHarness(opts: { actors?: AsyncActor[]; config?: unknown; bodyLimit?: string; certPollMs?: number } = {}): Promise<Harness> {
  const certDir = mkdtempSync(join(tmpdir(), 'asya-webhook-test-'));
  const certs = generateCertificates({ hosts: ['localhost', '127.0.0.1'] });
  writeCerts(certDir, certs);
  const actors = new ActorIndex();
  for (const a of opts.actors ?? []) actors.upsert(a);
  const config = parseConfig(structuredClone(opts.config ?? TEST_CONFIG));
  const metrics = new WebhookMetrics();
  const server = new WebhookServer({
    config,
    actors,
    certs: { certFile: join(certDir, 'tls.crt'), keyFile: join(certDir, 'tls.key') },
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger(),
    metrics,
    bodyLimit: opts.bodyLimit,
    certPollMs: opts.certPollMs,
  });
  const port = await server.start();
  const agent = new https.Agent({ keepAlive: true, ca: certs.caCert, maxSockets: 16 });
  const h: Harness = {
    port,
    ca: certs.caCert,
    certDir,
    certs,
    server,
    actors,
    metrics,
    config,
    agent,
    post: (path, body, o = {}) => post(port, o.ca ? undefined : agent, o.ca ?? certs.caCert, path, o.raw ?? JSON.stringify(body)),
    stop: async () => {
      agent.destroy();
      await server.stop(1000);
      rmSync(certDir, { recursive: true, force: true });
    },
  };
  return h;
}

export function post(port: number, agent: https.Agent | undefined, ca: string, path: string, payload: string | Buffer): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', servername: 'localhost', port, path, method: 'POST', ca, agent: agent ?? false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // keep text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

let uidCounter = 0;
export function review(object: unknown, over: Record<string, unknown> = {}): Record<string, unknown> {
  const kind = (object as { kind?: string })?.kind ?? 'Pod';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${++uidCounter}`,
      kind: { group: kind === 'Pod' ? '' : 'asya.sh', version: kind === 'Pod' ? 'v1' : 'v1alpha1', kind },
      resource: { group: '', version: 'v1', resource: kind === 'Pod' ? 'pods' : 'asyncactors' },
      namespace: (object as { metadata?: { namespace?: string } })?.metadata?.namespace ?? 'team-a',
      operation: 'CREATE',
      object,
      dryRun: false,
      ...over,
    },
  };
}

export function decodePatch(response: { patch?: string }): Array<{ op: string; path: string; value?: unknown }> {
  return response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) : [];
}

export const echoActor = (namespace = 'team-a', name = 'echo'): AsyncActor => ({
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name, namespace },
  spec: { transport: 'rabbitmq', workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13' }] } } } } as unknown as AsyncActor['spec'],
});

export const actorPod = (namespace = 'team-a', actor = 'echo', extraContainers = 0, envPerContainer = 0) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: `${actor}-`, namespace, labels: { 'asya.sh/actor': actor, 'pod-template-hash': 'abc' } },
  spec: {
    containers: [
      { name: 'asya-runtime', image: 'python:3.13', env: Array.from({ length: envPerContainer }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` })) },
      ...Array.from({ length: extraContainers }, (_, c) => ({
        name: `helper-${c}`,
        image: 'busybox',
        env: Array.from({ length: envPerContainer }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` })),
      })),
    ],
  },
});
