// `asya-webhook check`: each decision from its inputs (checks.ts), the order and wiring of the checks through a
// fake CheckIO (run.ts), and the TLS probes against a real loopback TLS server (io.ts).
import { describe, expect, test } from '@jest/globals';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildCrd } from '../../src/api/crd.js';
import { generateCertificates } from '../../src/certs/generate.js';
import {
  anyFailed,
  checkActorCrd,
  checkDryRun,
  checkLease,
  checkServingCertificate,
  checkTransport,
  checkWebhookConfigs,
  firstDifference,
  formatResults,
  type CheckResult,
  type WebhookConfigLike,
  type WebhookTarget,
} from '../../src/check/checks.js';
import { tlsProbe, verifyCertificatePem } from '../../src/check/probes.js';
import { runChecks, type CheckIO } from '../../src/check/run.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const established = { status: { conditions: [{ type: 'Established', status: 'True' }] } };

describe('the AsyncActor CRD', () => {
  test('identical to buildCrd(): ok', () => {
    const r = checkActorCrd({ ...structuredClone(buildCrd()), ...established } as never, buildCrd() as never);
    expect(r.status).toBe('ok');
    expect(r.detail).toContain('v1alpha1');
  });
  test('missing: fail with the command that applies it', () => {
    const r = checkActorCrd(undefined, buildCrd() as never);
    expect(r).toMatchObject({ status: 'fail', detail: 'not installed' });
    expect(r.fix).toContain('asya-webhook crd | kubectl apply --server-side -f -');
  });
  test('a schema from another release: fail naming where it differs', () => {
    const stored = structuredClone(buildCrd()) as any;
    delete stored.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.scaling;
    const r = checkActorCrd(stored, buildCrd() as never);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe("version v1alpha1 differs from this binary's at schema.openAPIV3Schema.properties.spec.properties.scaling");
  });
  test('a changed printer column or a field the server would not have: fail', () => {
    const stored = structuredClone(buildCrd()) as any;
    stored.spec.versions[0].additionalPrinterColumns[0].jsonPath = '.status.phase';
    expect(checkActorCrd(stored, buildCrd() as never).detail).toContain('additionalPrinterColumns[0].jsonPath');
    const extra = structuredClone(buildCrd()) as any;
    extra.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.legacy = { type: 'string' };
    expect(checkActorCrd(extra, buildCrd() as never).detail).toContain('properties.spec.properties.legacy');
  });
  test('a version this binary does not know, or lacks: fail', () => {
    const newer = structuredClone(buildCrd()) as any;
    newer.spec.versions.push({ ...newer.spec.versions[0], name: 'v1beta1', storage: false });
    expect(checkActorCrd(newer, buildCrd() as never)).toMatchObject({ status: 'fail', detail: 'installed CRD serves versions this binary does not know: v1beta1' });
    const older = structuredClone(buildCrd()) as any;
    older.spec.versions[0].name = 'v1alpha0';
    expect(checkActorCrd(older, buildCrd() as never).detail).toBe('version v1alpha1 missing (installed: v1alpha0)');
  });
  test('not established: fail with the reason', () => {
    const r = checkActorCrd({ ...(structuredClone(buildCrd()) as object), status: { conditions: [{ type: 'Established', status: 'False', message: 'name conflict' }] } } as never, buildCrd() as never);
    expect(r).toMatchObject({ status: 'fail', detail: 'not established: name conflict' });
  });
  test('firstDifference', () => {
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBeUndefined();
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe('.a[1].b');
    expect(firstDifference({ a: [1] }, { a: [1, 2] })).toBe('.a[1]');
    expect(firstDifference({ a: 1 }, { a: 1, z: 0 })).toBe('.z');
  });
});

const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n').toString('base64');
function configs(opts: { release?: string; caBundle?: string; injectFrom?: string; url?: string } = {}): { validating: WebhookConfigLike[]; mutating: WebhookConfigLike[] } {
  const cc = (path: string) =>
    opts.url
      ? { url: `${opts.url}${path}`, ...(opts.caBundle !== undefined ? { caBundle: opts.caBundle } : {}) }
      : { service: { name: 'asya-webhook', namespace: 'asya-system', path, port: 443 }, ...(opts.caBundle !== undefined ? { caBundle: opts.caBundle } : {}) };
  const metadata = (kind: string) => ({
    name: `${opts.release ?? 'asya'}-${kind}`,
    labels: { 'app.kubernetes.io/instance': opts.release ?? 'asya' },
    ...(opts.injectFrom ? { annotations: { 'cert-manager.io/inject-ca-from': opts.injectFrom } } : {}),
  });
  return {
    validating: [{ metadata: metadata('v'), webhooks: [{ name: 'validate.asyncactors.asya.sh', clientConfig: cc('/validate/asyncactors') }] }],
    mutating: [
      {
        metadata: metadata('m'),
        webhooks: [
          { name: 'mutate.asyncactors.asya.sh', clientConfig: cc('/mutate/asyncactors') },
          { name: 'inject.pods.asya.sh', clientConfig: cc('/mutate/pods') },
        ],
      },
    ],
  };
}

describe('webhook configurations', () => {
  test('both present with a caBundle: ok, one TLS target per endpoint and CA', () => {
    const { validating, mutating } = configs({ url: 'https://127.0.0.1:9443', caBundle: ca });
    const r = checkWebhookConfigs(validating, mutating);
    expect(r.results.map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(r.targets).toHaveLength(1);
    expect(r.targets[0]).toMatchObject({ endpoint: 'https://127.0.0.1:9443', host: '127.0.0.1', port: 9443 });
    expect(r.targets[0]!.webhooks).toEqual(['validate.asyncactors.asya.sh', 'mutate.asyncactors.asya.sh', 'inject.pods.asya.sh']);
    expect(r.usesCertManager).toBe(false);
  });
  test('service clientConfig: the target is the Service DNS name', () => {
    const { validating, mutating } = configs({ caBundle: ca, injectFrom: 'asya-system/asya-webhook-tls' });
    const r = checkWebhookConfigs(validating, mutating);
    expect(r.targets[0]).toMatchObject({ endpoint: 'service asya-system/asya-webhook:443', host: 'asya-webhook.asya-system.svc', port: 443, service: { name: 'asya-webhook', namespace: 'asya-system' } });
    expect(r.usesCertManager).toBe(true);
  });
  test('cert-manager annotation but no caBundle yet: fail pointing at cainjector and the Certificate', () => {
    const { validating, mutating } = configs({ injectFrom: 'asya-system/asya-webhook-tls' });
    const r = checkWebhookConfigs(validating, mutating);
    expect(r.results[0]).toMatchObject({ status: 'fail' });
    expect(r.results[0]!.detail).toContain("waiting for cert-manager's cainjector");
    expect(r.results[0]!.fix).toContain('kubectl describe certificate -n asya-system asya-webhook-tls');
    expect(r.usesCertManager).toBe(true);
    expect(r.targets).toHaveLength(0);
  });
  test('missing, or of another release: fail naming the kind', () => {
    const none = checkWebhookConfigs([], configs({ caBundle: ca }).mutating);
    expect(none.results[0]).toMatchObject({ name: 'ValidatingWebhookConfiguration', status: 'fail' });
    expect(none.results[1]!.status).toBe('ok');
    const other = configs({ caBundle: ca, release: 'other' });
    const r = checkWebhookConfigs(other.validating, other.mutating, 'asya');
    expect(r.results.map((x) => x.status)).toEqual(['fail', 'fail']);
    expect(r.results[0]!.detail).toContain('for release asya');
  });
  test('two installations without --release: fail asking for it; a webhook missing: fail naming it', () => {
    const a = configs({ caBundle: ca });
    const b = configs({ caBundle: ca, release: 'b' });
    const r = checkWebhookConfigs([...a.validating, ...b.validating], a.mutating);
    expect(r.results[0]!.detail).toContain('several hold our webhooks');
    const m = configs({ caBundle: ca });
    m.mutating[0]!.webhooks!.pop();
    expect(checkWebhookConfigs(m.validating, m.mutating).results[1]!.detail).toBe('asya-m lacks inject.pods.asya.sh');
  });
});

const target: WebhookTarget = { webhooks: ['validate.asyncactors.asya.sh'], endpoint: 'https://127.0.0.1:9443', host: '127.0.0.1', port: 9443, caPem: 'x' };
describe('the serving certificate', () => {
  test('verified, 200 days left: two ok', () => {
    const r = checkServingCertificate(target, { authorized: true, validTo: new Date(NOW.getTime() + 200 * DAY) }, NOW);
    expect(r.map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(r[1]!.detail).toBe('200 days left');
  });
  test('not verified by the caBundle: fail with the TLS error', () => {
    const r = checkServingCertificate(target, { authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', validTo: new Date(NOW.getTime() + 200 * DAY) }, NOW);
    expect(r[0]).toMatchObject({ status: 'fail' });
    expect(r[0]!.detail).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
  test('under 30 days: warning; expired: fail', () => {
    expect(checkServingCertificate(target, { authorized: true, validTo: new Date(NOW.getTime() + 29.5 * DAY) }, NOW)[1]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^29 days left/) });
    expect(checkServingCertificate(target, { authorized: true, validTo: new Date(NOW.getTime() + 30 * DAY) }, NOW)[1]!.status).toBe('ok');
    expect(checkServingCertificate(target, { authorized: false, validTo: new Date(NOW.getTime() - DAY) }, NOW)[1]).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^expired on /) });
  });
  test('nothing listening: one fail telling to start the webhook', () => {
    const r = checkServingCertificate(target, { error: 'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9443' }, NOW);
    expect(r).toEqual([expect.objectContaining({ status: 'fail', detail: 'cannot connect: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9443' })]);
  });
});

describe('the webhook through the API server (dry run)', () => {
  test('refused by our webhook: ok', () => {
    const r = checkDryRun({ allowed: false, status: 400, message: 'admission webhook "validate.asyncactors.asya.sh" denied the request: spec.transport: transport "x" not found' }, 'default');
    expect(r.status).toBe('ok');
  });
  test('admitted: the webhook was not called', () => {
    expect(checkDryRun({ allowed: true }, 'default')).toMatchObject({ status: 'fail', detail: expect.stringContaining('the webhook was not called') });
  });
  test('the API server cannot call it: fail with its message on one line', () => {
    const r = checkDryRun({ allowed: false, status: 500, message: 'Internal error occurred: failed calling webhook "mutate.asyncactors.asya.sh":\n dial tcp 127.0.0.1:1: connect: connection refused' }, 'default');
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('the API server cannot call the webhook: Internal error occurred: failed calling webhook "mutate.asyncactors.asya.sh": dial tcp 127.0.0.1:1: connect: connection refused');
  });
  test('no CRD, or not allowed: fail with the matching fix', () => {
    expect(checkDryRun({ allowed: false, status: 404, message: 'the server could not find the requested resource' }, 'default').fix).toContain('asya-webhook crd');
    expect(checkDryRun({ allowed: false, status: 403, message: 'forbidden' }, 'default').fix).toContain('--dry-run-namespace');
  });
});

describe('the leader lease', () => {
  const le = { enabled: true, leaseName: 'asya-reconciler', leaseNamespace: 'asya-system', leaseDurationSeconds: 15 };
  test('renewed 10 s ago with a 15 s lease: ok; 31 s ago: fail', () => {
    const lease = (ago: number) => ({ spec: { holderIdentity: 'pod-1', leaseDurationSeconds: 15, renewTime: new Date(NOW.getTime() - ago * 1000).toISOString() } });
    expect(checkLease(lease(10), le, NOW)).toMatchObject({ status: 'ok', detail: 'held by pod-1, renewed 10s ago' });
    expect(checkLease(lease(29), le, NOW).status).toBe('ok');
    expect(checkLease(lease(31), le, NOW)).toMatchObject({ status: 'fail', detail: expect.stringContaining('last renewed 31s ago') });
  });
  test('missing, released, never renewed: fail; leader election off: skipped', () => {
    expect(checkLease(undefined, le, NOW).detail).toContain('not found');
    expect(checkLease({ spec: { holderIdentity: '', renewTime: NOW.toISOString() } }, le, NOW).detail).toContain('no holder');
    expect(checkLease({ spec: { holderIdentity: 'x' } }, le, NOW).detail).toContain('never renewed');
    expect(checkLease(undefined, { ...le, enabled: false }, NOW).status).toBe('skip');
  });
});

test('transports: ok with how; fail with the error and a fix naming the transport', () => {
  const fix = 'check the broker at 127.0.0.1:5672 and the password Secret; or fix transports.rabbitmq.config with helm upgrade';
  expect(checkTransport('rabbitmq', 'rabbitmq', '127.0.0.1:5672', { ok: true, how: 'AMQP login as guest' }, fix)).toMatchObject({ status: 'ok', detail: 'reachable: AMQP login as guest' });
  const f = checkTransport('rabbitmq', 'rabbitmq', '127.0.0.1:5672', { ok: false, how: 'AMQP login as guest', error: 'ECONNREFUSED connect ECONNREFUSED' }, fix);
  expect(f).toMatchObject({ status: 'fail', name: 'transport rabbitmq (rabbitmq at 127.0.0.1:5672)', detail: 'unreachable: AMQP login as guest failed: ECONNREFUSED connect ECONNREFUSED' });
  expect(f.fix).toContain('transports.rabbitmq.config');
});

test('transports: a missing end queue fails the check even though the broker answers (every result would loop)', () => {
  const probe = { ok: true, how: 'AMQP login as guest' };
  expect(checkTransport('rabbitmq', 'rabbitmq', 'h:5672', { ...probe, missingEndQueues: [] }, 'x')).toMatchObject({ status: 'ok', detail: 'reachable: AMQP login as guest, end queues present' });
  const f = checkTransport('rabbitmq', 'rabbitmq', 'h:5672', { ...probe, missingEndQueues: ['asya-error-end'] }, 'x');
  expect(f).toMatchObject({ status: 'fail', detail: 'reachable, but the end queue asya-error-end is missing: every sidecar requeues a result meant for it, without end' });
  expect(f.fix).toContain('leader Lease');
});

test('formatResults: one line per check, a fix line under failures and warnings, a summary', () => {
  const results: CheckResult[] = [
    { name: 'a', status: 'ok', detail: 'fine' },
    { name: 'b', status: 'fail', detail: 'broken', fix: 'do x' },
    { name: 'c', status: 'warn', detail: 'soon', fix: 'do y' },
    { name: 'd', status: 'skip', detail: 'n/a' },
  ];
  expect(formatResults(results)).toBe('✔ a: fine\n✖ b: broken\n    fix: do x\n‼ c: soon\n    fix: do y\n- d: n/a\n\nStatus check results are ✖: 1 failed, 1 warnings, 1 passed\n');
  expect(anyFailed(results)).toBe(true);
  expect(anyFailed(results.filter((r) => r.status !== 'fail'))).toBe(false);
});

// ---- runChecks through a fake CheckIO ----

const CONFIG = `transports:
  rabbitmq: {enabled: true, type: rabbitmq, config: {host: 127.0.0.1, port: 5672, passwordSecretRef: {name: rabbitmq-secret, key: password}}}
  sqs: {enabled: true, type: sqs, config: {region: us-east-1, endpoint: "http://127.0.0.1:4566"}}
reconciler:
  leaderElection: {enabled: true, leaseName: asya-reconciler, leaseNamespace: asya-system, leaseDurationSeconds: 15}
`;

function fakeIO(over: Partial<CheckIO> = {}): CheckIO & { calls: string[] } {
  const calls: string[] = [];
  const crds = new Set(['asyncactors.asya.sh', 'scaledobjects.keda.sh', 'triggerauthentications.keda.sh']);
  const io: CheckIO = {
    serverVersion: async () => 'v1.37.2',
    getCrd: async (name) => {
      calls.push(`crd ${name}`);
      return crds.has(name) ? ({ ...(structuredClone(buildCrd()) as object), ...established } as Record<string, unknown>) : undefined;
    },
    listWebhookConfigs: async () => configs({ url: 'https://127.0.0.1:9443', caBundle: ca }),
    probeTls: async () => ({ authorized: true, validTo: new Date(NOW.getTime() + 100 * DAY) }),
    dryRunCreateActor: async (ns, actor) => {
      calls.push(`dry-run ${ns} ${(actor.spec as { transport: string }).transport}`);
      return { allowed: false, status: 400, message: 'admission webhook "validate.asyncactors.asya.sh" denied the request: no' };
    },
    getLease: async () => ({ spec: { holderIdentity: 'r-1', leaseDurationSeconds: 15, renewTime: NOW.toISOString() } }),
    findConfig: async (ns) => ({ source: `ConfigMap ${ns}/asya-config`, text: CONFIG }),
    readSecretKey: async (ns, name, key) => {
      calls.push(`secret ${ns}/${name}/${key}`);
      return 's3cret';
    },
    // The plugins' probes talk to brokers (integration and e2e tests); here: what check does with the answer.
    probeTransport: async (t, ctx) => {
      if (t.type === 'rabbitmq') {
        const ref = t.config.passwordSecretRef as { name: string; key: string };
        const password = await ctx.readSecretKey(ref.name, ref.key);
        calls.push(`amqp ${t.config.host}:${t.config.port} ${password}`);
        return password === undefined
          ? { ok: true, how: 'TCP connect', note: `Secret ${ctx.namespace}/${ref.name} not readable: TCP connect only` }
          : { ok: true, how: 'AMQP login as guest', missingEndQueues: [] };
      }
      calls.push(`sqs ${t.config.endpoint}`);
      return { ok: true, how: 'SQS ListQueues', missingEndQueues: [] };
    },
    ...over,
  };
  return Object.assign(io, { calls });
}
const opts = { namespace: 'asya-system', dryRunNamespace: 'default', now: () => NOW };

describe('runChecks', () => {
  test('a healthy installation: every check passes, cert-manager skipped when not used', async () => {
    const io = fakeIO();
    const r = await runChecks(io, opts);
    expect(r.filter((x) => x.status === 'fail')).toEqual([]);
    expect(r.map((x) => x.name)).toEqual([
      'Kubernetes API',
      'CRD asyncactors.asya.sh',
      'KEDA CRD scaledobjects.keda.sh',
      'KEDA CRD triggerauthentications.keda.sh',
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
      'cert-manager CRD certificates.cert-manager.io',
      'cert-manager CRD issuers.cert-manager.io',
      'webhook certificate (https://127.0.0.1:9443)',
      'webhook certificate expiry (https://127.0.0.1:9443)',
      'webhook answers the API server',
      'operator configuration',
      'reconciler leader Lease asya-system/asya-reconciler',
      'transport rabbitmq (rabbitmq at 127.0.0.1:5672)',
      'transport sqs (sqs at http://127.0.0.1:4566)',
    ]);
    expect(r.filter((x) => x.status === 'skip').map((x) => x.name)).toEqual(['cert-manager CRD certificates.cert-manager.io', 'cert-manager CRD issuers.cert-manager.io']);
    // The password comes from the Secret the configuration names, in the installation's namespace.
    expect(io.calls).toEqual(expect.arrayContaining(['secret asya-system/rabbitmq-secret/password', 'amqp 127.0.0.1:5672 s3cret', 'sqs http://127.0.0.1:4566', 'dry-run default asya-check-no-such-transport']));
  });
  test('webhook configurations with inject-ca-from: cert-manager CRDs are required', async () => {
    const io = fakeIO({ listWebhookConfigs: async () => configs({ url: 'https://127.0.0.1:9443', caBundle: ca, injectFrom: 'asya-system/x' }) });
    const r = await runChecks(io, opts);
    expect(r.filter((x) => x.status === 'fail').map((x) => x.name)).toEqual(['cert-manager CRD certificates.cert-manager.io', 'cert-manager CRD issuers.cert-manager.io']);
  });
  test('an unreadable Secret: TCP connect only, said in the line', async () => {
    const io = fakeIO({ readSecretKey: async () => undefined });
    const r = await runChecks(io, opts);
    expect(io.calls).toContain('amqp 127.0.0.1:5672 undefined');
    expect(r.find((x) => x.name.startsWith('transport rabbitmq'))!.detail).toContain('Secret asya-system/rabbitmq-secret not readable: TCP connect only');
  });
  test('the API server unreachable: one failing line, nothing else tried', async () => {
    const io = fakeIO({ serverVersion: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443')) });
    const r = await runChecks(io, opts);
    expect(r).toEqual([expect.objectContaining({ name: 'Kubernetes API', status: 'fail', detail: 'cannot reach it: connect ECONNREFUSED 127.0.0.1:6443' })]);
    expect(io.calls).toEqual([]);
  });
  test('an I/O error in one check fails that check only', async () => {
    const io = fakeIO({ getLease: async () => Promise.reject(new Error('GET leases: 403 forbidden')) });
    const r = await runChecks(io, opts);
    expect(r.filter((x) => x.status === 'fail')).toEqual([expect.objectContaining({ name: 'reconciler leader Lease asya-system/asya-reconciler', detail: 'error: GET leases: 403 forbidden' })]);
  });
  test('no configuration found: fail with the fix; an invalid one: fail naming the key', async () => {
    const none = await runChecks(fakeIO({ findConfig: async () => ({ error: 'no ConfigMap', fix: 'pass --namespace' }) }), opts);
    expect(none.at(-1)).toMatchObject({ name: 'operator configuration', status: 'fail', detail: 'no ConfigMap', fix: 'pass --namespace' });
    const bad = await runChecks(fakeIO({ findConfig: async () => ({ source: 'x', text: 'transports: {r: {type: rabbitmq, config: {hots: a}}}' }) }), opts);
    expect(bad.at(-1)!.detail).toMatch(/^x is invalid: .*transports\.r\.config/);
  });
});

describe('TLS probes (real TLS on loopback)', () => {
  const good = generateCertificates({ hosts: ['127.0.0.1', 'localhost'] });
  const other = generateCertificates({ hosts: ['127.0.0.1'] });
  async function server(): Promise<{ port: number; close: () => Promise<void> }> {
    const s = https.createServer({ cert: good.cert, key: good.key }, (_q, r) => r.end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
  }
  test('the right CA verifies the presented certificate; another CA does not; a closed port is an error', async () => {
    const s = await server();
    try {
      const right = await tlsProbe('127.0.0.1', s.port, good.caCert);
      expect(right.authorized).toBe(true);
      expect(right.validTo!.getTime()).toBeGreaterThan(Date.now() + 300 * DAY);
      const wrong = await tlsProbe('127.0.0.1', s.port, other.caCert);
      expect(wrong.authorized).toBe(false);
      expect(wrong.authorizationError).toMatch(/CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY|self.signed|unable to get/i);
      const byName = await tlsProbe('localhost', s.port, good.caCert);
      expect(byName.authorized).toBe(true);
    } finally {
      await s.close();
    }
    const closed = await tlsProbe('127.0.0.1', s.port, good.caCert);
    expect(closed.error).toMatch(/ECONNREFUSED/);
  });
  test('a certificate read from a Secret is verified against the caBundle and the name', () => {
    expect(verifyCertificatePem(good.cert, good.caCert, '127.0.0.1', new Date()).authorized).toBe(true);
    expect(verifyCertificatePem(good.cert, other.caCert, '127.0.0.1', new Date())).toMatchObject({ authorized: false, authorizationError: 'not signed by the caBundle' });
    expect(verifyCertificatePem(good.cert, good.caCert, 'asya-webhook.asya-system.svc', new Date()).authorizationError).toBe('not valid for asya-webhook.asya-system.svc');
  });
});
