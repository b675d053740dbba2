// The webhook over real TLS, with a real HTTPS client that verifies the server against the generated CA.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import https from 'node:https';
import tls from 'node:tls';
import { generateCertificates } from '../../src/certs/generate.js';
import { actorPod, decodePatch, echoActor, post, review, startHarness, writeCerts, type Harness } from '../support/webhookHarness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ actors: [echoActor()], bodyLimit: '1mb', certPollMs: 200 });
});
afterAll(async () => {
  await h.stop();
});

describe('admission.k8s.io/v1 over HTTPS', () => {
  test('an actor pod is patched: uid echoed, base64 JSONPatch', async () => {
    const body = review(actorPod());
    const r = await h.post('/mutate/pods', body);
    expect(r.status).toBe(200);
    expect(r.body.apiVersion).toBe('admission.k8s.io/v1');
    expect(r.body.kind).toBe('AdmissionReview');
    expect(r.body.response.uid).toBe((body.request as { uid: string }).uid);
    expect(r.body.response.allowed).toBe(true);
    expect(r.body.response.patchType).toBe('JSONPatch');
    const ops = decodePatch(r.body.response);
    expect(ops.find((o) => o.path === '/spec/containers/1')?.value).toMatchObject({ name: 'asya-sidecar' });
  });

  test('a pod without the actor label is allowed without a patch', async () => {
    const r = await h.post('/mutate/pods', review({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } }));
    expect(r.body.response).toEqual({ uid: expect.any(String), allowed: true });
  });

  test('a dry-run request gets the same patch', async () => {
    const a = await h.post('/mutate/pods', review(actorPod()));
    const b = await h.post('/mutate/pods', review(actorPod(), { dryRun: true }));
    expect(b.body.response.patch).toBe(a.body.response.patch);
  });

  test('an actor pod whose actor does not exist is refused with a message to act on', async () => {
    const r = await h.post('/mutate/pods', review(actorPod('team-a', 'ghost')));
    expect(r.body.response.allowed).toBe(false);
    expect(r.body.response.status.message).toMatch(/asya.sh\/actor=ghost names no AsyncActor in namespace "team-a"/);
  });

  test('an invalid actor is refused with every violation and its field path', async () => {
    const bad = echoActor();
    (bad.spec as Record<string, unknown>).scaling = { minReplicas: 4, maxReplicas: 2 };
    (bad.spec as Record<string, unknown>).transport = 'kafka';
    const r = await h.post('/validate/asyncactors', review(bad));
    expect(r.body.response.allowed).toBe(false);
    expect(r.body.response.status.code).toBe(422);
    expect(r.body.response.status.message).toContain('spec.scaling.minReplicas: must be <= spec.scaling.maxReplicas (2)');
    expect(r.body.response.status.message).toContain('spec.transport: transport "kafka" not found in operator configuration');
  });

  test('a valid actor is allowed; a transport change on UPDATE is refused', async () => {
    const ok = await h.post('/validate/asyncactors', review(echoActor('team-z', 'fresh')));
    expect(ok.body.response.allowed).toBe(true);
    const moved = echoActor('team-z', 'fresh');
    moved.spec.transport = 'sqs';
    const r = await h.post('/validate/asyncactors', review(moved, { operation: 'UPDATE', oldObject: echoActor('team-z', 'fresh') }));
    expect(r.body.response.allowed).toBe(false);
    expect(r.body.response.status.message).toContain('spec.transport: is immutable');
  });

  test('an actor reusing the queue of an actor in another namespace is refused', async () => {
    const r = await h.post('/validate/asyncactors', review(echoActor('team-b', 'echo')));
    expect(r.body.response.allowed).toBe(false);
    expect(r.body.response.status.message).toContain('already used by actor team-a/echo');
  });

  test('the mutating actor endpoint turns workload.type into kind, with a warning', async () => {
    const a = echoActor();
    (a.spec.workload as Record<string, unknown>).type = 'StatefulSet';
    (a.spec.workload as Record<string, unknown>).kind = 'Deployment'; // as defaulted by the API server
    const r = await h.post('/mutate/asyncactors', review(a));
    expect(r.body.response.allowed).toBe(true);
    expect(decodePatch(r.body.response)).toEqual([
      { op: 'replace', path: '/spec/workload/kind', value: 'StatefulSet' },
      { op: 'remove', path: '/spec/workload/type' },
    ]);
    expect(r.body.response.warnings[0]).toMatch(/workload.type is deprecated/);
  });
});

describe('bad requests get a 4xx with a reason, never a crash', () => {
  test.each([
    ['malformed JSON', '{"kind": "AdmissionReview", ', 400, /malformed JSON/],
    ['not an object', '[1,2]', 400, /body must be a JSON object/],
    ['wrong kind', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: {} }), 400, /kind must be AdmissionReview/],
    ['v1beta1', JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }), 400, /apiVersion must be admission.k8s.io\/v1/],
    ['missing request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 400, /request is missing/],
    ['missing uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE', kind: { kind: 'Pod' } } }), 400, /request.uid is missing/],
  ])('%s', async (_n, raw, status, reason) => {
    const r = await h.post('/mutate/pods', null, { raw });
    expect(r.status).toBe(status);
    expect(r.body.error).toMatch(reason);
  });

  test('a body over the limit is a 413 with a clear message', async () => {
    const big = actorPod('team-a', 'echo', 0, 0);
    (big.metadata as Record<string, unknown>).annotations = { filler: 'x'.repeat(1_200_000) };
    const r = await h.post('/mutate/pods', review(big));
    expect(r.status).toBe(413);
    expect(r.body.error).toBe('request body larger than the limit of 1mb');
  });

  test('a large pod under the limit is fine (10 containers x 100 env)', async () => {
    const r = await h.post('/mutate/pods', review(actorPod('team-a', 'echo', 9, 100)));
    expect(r.status).toBe(200);
    expect(r.body.response.allowed).toBe(true);
  });

  test('unknown path is a 404', async () => {
    const r = await h.post('/mutate/nodes', review(actorPod()));
    expect(r.status).toBe(404);
  });

  test('the server still answers after all of that', async () => {
    const r = await h.post('/mutate/pods', review(actorPod()));
    expect(r.body.response.allowed).toBe(true);
  });
});

describe('TLS', () => {
  test('TLS 1.1 is refused, TLS 1.2 and 1.3 accepted', async () => {
    const connect = (opts: tls.ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: h.port, servername: 'localhost', ca: h.ca, ...opts }, () => {
          const v = s.getProtocol() ?? '';
          s.end();
          resolve(v);
        });
        s.on('error', reject);
      });
    await expect(connect({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })).rejects.toThrow();
    await expect(connect({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).resolves.toBe('TLSv1.2');
    await expect(connect({ minVersion: 'TLSv1.3' })).resolves.toBe('TLSv1.3');
  });

  test('a client that does not trust the CA is refused', async () => {
    const other = generateCertificates({ hosts: ['localhost'] });
    await expect(post(h.port, undefined, other.caCert, '/mutate/pods', JSON.stringify(review(actorPod())))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  test('a certificate rotated on disk is served by the next handshake, without restart', async () => {
    const next = generateCertificates({ hosts: ['localhost', '127.0.0.1'] });
    writeCerts(h.certDir, next);
    const deadline = Date.now() + 5000;
    let served = false;
    while (Date.now() < deadline && !served) {
      try {
        // A fresh connection (no agent) so that the handshake happens now.
        const r = await post(h.port, undefined, next.caCert, '/mutate/pods', JSON.stringify(review(actorPod())));
        served = r.status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(served).toBe(true);
    // The old CA no longer verifies new handshakes.
    await expect(post(h.port, undefined, h.certs.caCert, '/mutate/pods', JSON.stringify(review(actorPod())))).rejects.toThrow();
    const reloads = await h.metrics.certReloads.get();
    expect(reloads.values.find((v) => v.labels.result === 'success')?.value).toBeGreaterThanOrEqual(2);
    h.ca = next.caCert;
    h.agent.options.ca = next.caCert;
    h.agent.destroy();
  });
});

describe('graceful shutdown', () => {
  test('an in-flight review is answered after stop() begins; new connections are refused', async () => {
    const g = await startHarness({ actors: [echoActor()] });
    const payload = JSON.stringify(review(actorPod()));
    const half = Math.floor(payload.length / 2);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', servername: 'localhost', port: g.port, path: '/mutate/pods', method: 'POST', ca: g.ca, headers: { 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(payload.slice(0, half));
      // Finish the body only once shutdown has begun.
      setTimeout(() => req.end(payload.slice(half)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = g.stop();
    const r = await answer;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).response.allowed).toBe(true);
    await stopped;
    await expect(post(g.port, undefined, g.ca, '/mutate/pods', payload)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('metrics', () => {
  test('reviews are counted by endpoint, result and reason; latency observed', async () => {
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/asya_webhook_admission_reviews_total\{endpoint="mutate-pods",result="patched",reason="injected"\} \d+/);
    expect(text).toMatch(/asya_webhook_admission_reviews_total\{endpoint="validate-asyncactors",result="denied",reason="invalid_actor"\} \d+/);
    expect(text).toMatch(/asya_webhook_admission_duration_seconds_count\{endpoint="mutate-pods"\} \d+/);
    expect(text).toMatch(/asya_webhook_injections_total\{dry_run="true"\} 1/);
  });
});
