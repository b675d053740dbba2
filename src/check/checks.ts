// `asya-webhook check`: the decisions, pure. Each function turns what was read from the cluster (or the network)
// into check results with a one-line fix for each failure; run.ts gathers the inputs through CheckIO.
import { ACTOR_CRD_NAME, ACTOR_MUTATING_WEBHOOK_NAME, ACTOR_VALIDATING_WEBHOOK_NAME, POD_WEBHOOK_NAME } from '../names.js';
import type { TransportProbeResult as TransportProbe } from '../transports/plugin.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** What is checked, e.g. "AsyncActor CRD". */
  name: string;
  status: CheckStatus;
  /** One line: what was found. */
  detail: string;
  /** One line: what to do (failures and warnings). */
  fix?: string;
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

// ---- CRDs ----

interface CrdLike {
  metadata?: { name?: string };
  spec?: { versions?: Array<Record<string, unknown> & { name: string }> };
  status?: { conditions?: Array<{ type: string; status: string; message?: string }> };
}

/** Where two JSON values first differ ("" when equal); object keys in sorted order, so the answer is stable. */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | undefined {
  if (expected === actual) return undefined;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) return path || '.';
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (i >= expected.length || i >= actual.length) return `${path}[${i}]`;
      const d = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])].sort();
    for (const k of keys) {
      if (e[k] === undefined && a[k] === undefined) continue;
      const d = firstDifference(e[k], a[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return path || '.';
}

/** The parts of a CRD version that this binary's webhook and reconciler depend on. */
function versionFingerprint(v: Record<string, unknown>): Record<string, unknown> {
  return {
    served: v.served,
    storage: v.storage,
    schema: v.schema,
    subresources: v.subresources,
    additionalPrinterColumns: v.additionalPrinterColumns,
  };
}

export const CRD_FIX = 'apply the CRD of this release: asya-webhook crd | kubectl apply --server-side -f - (or kubectl apply --server-side -f manifests/crds/)';

/** Our CRD: installed, established, and the same versions and schema as buildCrd() of this binary. */
export function checkActorCrd(stored: CrdLike | undefined, expected: CrdLike): CheckResult {
  const name = `CRD ${ACTOR_CRD_NAME}`;
  if (!stored) return fail(name, 'not installed', CRD_FIX);
  const established = stored.status?.conditions?.find((c) => c.type === 'Established');
  if (established && established.status !== 'True') {
    return fail(name, `not established: ${established.message ?? established.status}`, 'kubectl describe crd asyncactors.asya.sh (the API server refused or is still processing it)');
  }
  const want = expected.spec?.versions ?? [];
  const have = stored.spec?.versions ?? [];
  const extra = have.filter((h) => !want.some((w) => w.name === h.name)).map((h) => h.name);
  for (const w of want) {
    const h = have.find((x) => x.name === w.name);
    if (!h) return fail(name, `version ${w.name} missing (installed: ${have.map((x) => x.name).join(', ') || 'none'})`, CRD_FIX);
    const d = firstDifference(JSON.parse(JSON.stringify(versionFingerprint(w))), versionFingerprint(h));
    if (d !== undefined) return fail(name, `version ${w.name} differs from this binary's at ${d.replace(/^\./, '')}`, CRD_FIX);
  }
  if (extra.length > 0) return fail(name, `installed CRD serves versions this binary does not know: ${extra.join(', ')}`, 'use the asya-webhook binary of the installed release, or apply this one\'s CRD');
  return ok(name, `installed, versions ${want.map((w) => w.name).join(', ')} match this binary`);
}

export interface RequiredCrd {
  name: string;
  /** Whose CRD, for the message ("KEDA"). */
  owner: string;
  fix: string;
}

export const KEDA_CRDS: RequiredCrd[] = ['scaledobjects.keda.sh', 'triggerauthentications.keda.sh'].map((name) => ({
  name,
  owner: 'KEDA',
  fix: 'install KEDA: helm install keda kedacore/keda --namespace keda --create-namespace',
}));

export const CERT_MANAGER_CRDS: RequiredCrd[] = ['certificates.cert-manager.io', 'issuers.cert-manager.io'].map((name) => ({
  name,
  owner: 'cert-manager',
  fix: 'install cert-manager (helm install cert-manager jetstack/cert-manager --set crds.enabled=true), or install asya-operator with certManager.enabled=false',
}));

export function checkRequiredCrd(crd: RequiredCrd, present: boolean | undefined, reason?: string): CheckResult {
  const name = `${crd.owner} CRD ${crd.name}`;
  if (present === undefined) return skip(name, reason ?? 'not required');
  return present ? ok(name, 'installed') : fail(name, 'not installed', crd.fix);
}

// ---- webhook configurations ----

export const WEBHOOK_NAMES = {
  validating: [ACTOR_VALIDATING_WEBHOOK_NAME],
  mutating: [ACTOR_MUTATING_WEBHOOK_NAME, POD_WEBHOOK_NAME],
} as const;

export const INJECT_CA_ANNOTATION = 'cert-manager.io/inject-ca-from';

export interface WebhookConfigLike {
  kind?: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  webhooks?: Array<{
    name: string;
    clientConfig?: { url?: string; caBundle?: string; service?: { name: string; namespace: string; path?: string; port?: number } };
  }>;
}

/** Where the API server sends one webhook's reviews, and the CA it trusts there. */
export interface WebhookTarget {
  /** Webhook names using this endpoint and CA. */
  webhooks: string[];
  /** "https://127.0.0.1:8443" or "service asya-system/asya-webhook:443". */
  endpoint: string;
  host: string;
  port: number;
  service?: { name: string; namespace: string };
  /** PEM of the caBundle, "" when there is none. */
  caPem: string;
}

/** Our webhook configurations among those listed: those that hold one of our webhooks (and of the release, when given). */
export function selectWebhookConfigs(all: WebhookConfigLike[], release?: string): WebhookConfigLike[] {
  const ours = new Set<string>([...WEBHOOK_NAMES.validating, ...WEBHOOK_NAMES.mutating]);
  return all.filter(
    (c) => (c.webhooks ?? []).some((w) => ours.has(w.name)) && (!release || c.metadata.labels?.['app.kubernetes.io/instance'] === release),
  );
}

export function checkWebhookConfigs(
  validating: WebhookConfigLike[],
  mutating: WebhookConfigLike[],
  release?: string,
): { results: CheckResult[]; targets: WebhookTarget[]; usesCertManager: boolean } {
  const results: CheckResult[] = [];
  const targets = new Map<string, WebhookTarget>();
  let usesCertManager = false;
  const fix = release
    ? `helm upgrade --install ${release} asya/asya-operator --namespace <namespace> (the chart creates both configurations)`
    : 'install the asya-operator chart (or kubectl apply -f manifests/), or pass --release when several are installed';
  for (const [kind, list, names] of [
    ['ValidatingWebhookConfiguration', validating, WEBHOOK_NAMES.validating],
    ['MutatingWebhookConfiguration', mutating, WEBHOOK_NAMES.mutating],
  ] as const) {
    const name = kind;
    const found = selectWebhookConfigs(list, release);
    if (found.length === 0) {
      results.push(fail(name, `none holds ${names.join(', ')}${release ? ` for release ${release}` : ''}`, fix));
      continue;
    }
    if (found.length > 1) {
      results.push(fail(name, `several hold our webhooks: ${found.map((c) => c.metadata.name).join(', ')}`, 'delete the stale ones, or pass --release to check one installation'));
      continue;
    }
    const cfg = found[0]!;
    const missing = names.filter((n) => !(cfg.webhooks ?? []).some((w) => w.name === n));
    if (missing.length > 0) {
      results.push(fail(name, `${cfg.metadata.name} lacks ${missing.join(', ')}`, fix));
      continue;
    }
    const injectFrom = cfg.metadata.annotations?.[INJECT_CA_ANNOTATION];
    if (injectFrom) usesCertManager = true;
    const noBundle = (cfg.webhooks ?? []).filter((w) => names.includes(w.name as never) && !w.clientConfig?.caBundle).map((w) => w.name);
    if (noBundle.length > 0) {
      results.push(
        fail(
          name,
          `${cfg.metadata.name}: no caBundle on ${noBundle.join(', ')}${injectFrom ? ` (waiting for cert-manager's cainjector, ${INJECT_CA_ANNOTATION}: ${injectFrom})` : ''}`,
          injectFrom
            ? `check that cert-manager's cainjector runs and that Certificate ${injectFrom} is Ready (kubectl describe certificate -n ${injectFrom.replace('/', ' ')})`
            : 'helm upgrade the release (the chart sets the caBundle), or set clientConfig.caBundle to the CA of the webhook certificate',
        ),
      );
      continue;
    }
    for (const w of cfg.webhooks ?? []) {
      if (!names.includes(w.name as never)) continue;
      const t = targetOf(w.clientConfig ?? {});
      if (!t) {
        results.push(fail(name, `${w.name}: clientConfig has neither url nor service`, fix));
        continue;
      }
      const key = `${t.endpoint}|${t.caPem}`;
      const prev = targets.get(key);
      if (prev) prev.webhooks.push(w.name);
      else targets.set(key, { ...t, webhooks: [w.name] });
    }
    results.push(ok(name, `${cfg.metadata.name}: ${names.join(', ')} with a caBundle${injectFrom ? ` (injected by cert-manager from ${injectFrom})` : ''}`));
  }
  return { results, targets: [...targets.values()], usesCertManager };
}

function targetOf(cc: NonNullable<NonNullable<WebhookConfigLike['webhooks']>[number]['clientConfig']>): Omit<WebhookTarget, 'webhooks'> | undefined {
  const caPem = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : '';
  if (cc.url) {
    const u = new URL(cc.url);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    return { endpoint: `${u.protocol}//${u.host}`, host, port: Number(u.port || 443), caPem };
  }
  if (cc.service) {
    const port = cc.service.port ?? 443;
    return {
      endpoint: `service ${cc.service.namespace}/${cc.service.name}:${port}`,
      host: `${cc.service.name}.${cc.service.namespace}.svc`,
      port,
      service: { name: cc.service.name, namespace: cc.service.namespace },
      caPem,
    };
  }
  return undefined;
}

// ---- serving certificate ----

export interface TlsProbe {
  /** Connection failed before a certificate was seen. */
  error?: string;
  /** The chain verified against the caBundle (and the name matched). */
  authorized?: boolean;
  authorizationError?: string;
  /** validTo of the leaf certificate presented. */
  validTo?: Date;
  subject?: string;
  /** Where the certificate was read when not from the connection (e.g. "Secret ns/name"). */
  source?: string;
}

export const CERT_WARN_DAYS = 30;

export function checkServingCertificate(target: WebhookTarget, probe: TlsProbe, now: Date): CheckResult[] {
  const name = `webhook certificate (${target.endpoint})`;
  const where = probe.source ? ` (read from ${probe.source}: the endpoint is not reachable from here)` : '';
  if (probe.error) {
    return [
      fail(
        name,
        `cannot connect: ${probe.error}`,
        target.service
          ? `kubectl -n ${target.service.namespace} get endpoints ${target.service.name} (are the webhook pods ready?)`
          : `start the webhook at ${target.endpoint}`,
      ),
    ];
  }
  const out: CheckResult[] = [];
  if (probe.authorized) out.push(ok(name, `caBundle verifies the serving certificate${probe.subject ? ` ${probe.subject}` : ''}${where}`));
  else
    out.push(
      fail(
        name,
        `caBundle does not verify the serving certificate: ${probe.authorizationError ?? 'unknown error'}${where}`,
        'the caBundle and the webhook\'s certificate come from different CAs: helm upgrade the release (or let cert-manager re-inject the CA) and restart the webhook',
      ),
    );
  if (probe.validTo) {
    const days = Math.floor((probe.validTo.getTime() - now.getTime()) / 86_400_000);
    const expiry = `webhook certificate expiry (${target.endpoint})`;
    if (probe.validTo.getTime() <= now.getTime()) {
      out.push(fail(expiry, `expired on ${probe.validTo.toISOString()}`, 'renew it: cert-manager renews before renewBefore; without cert-manager, delete the TLS Secret and helm upgrade'));
    } else if (days < CERT_WARN_DAYS) {
      out.push(warn(expiry, `${days} days left (expires ${probe.validTo.toISOString()})`, 'renew it soon (cert-manager: check the Certificate is Ready; otherwise delete the TLS Secret and helm upgrade)'));
    } else out.push(ok(expiry, `${days} days left`));
  }
  return out;
}

// ---- the webhook through the API server ----

export interface DryRunOutcome {
  /** The API server stored (would have stored) the object. */
  allowed: boolean;
  /** The API server's message when refused. */
  message?: string;
  /** HTTP status of the refusal. */
  status?: number;
}

export const DRY_RUN_WEBHOOK = ACTOR_VALIDATING_WEBHOOK_NAME;

/**
 * A dry-run create of an AsyncActor naming a transport that cannot exist: only our validating webhook refuses
 * it (the CRD schema accepts any name), so a refusal with its message proves the API server called it.
 */
export function checkDryRun(outcome: DryRunOutcome, namespace: string): CheckResult {
  const name = 'webhook answers the API server';
  if (outcome.allowed) {
    return fail(name, `a dry-run AsyncActor with an unknown transport was admitted in ${namespace}: the webhook was not called`, `check the ValidatingWebhookConfiguration's failurePolicy (Fail) and that namespace ${namespace} is not excluded; or pass --dry-run-namespace`);
  }
  const msg = outcome.message ?? '';
  if (msg.includes(`admission webhook "${DRY_RUN_WEBHOOK}" denied the request`)) return ok(name, `a dry-run AsyncActor in ${namespace} was refused by ${DRY_RUN_WEBHOOK}`);
  if (/failed calling webhook/.test(msg)) {
    return fail(name, `the API server cannot call the webhook: ${oneLine(msg)}`, 'check the webhook pods (kubectl -n <namespace> get pods -l app.kubernetes.io/component=webhook) and the caBundle');
  }
  if (outcome.status === 404) return fail(name, `the API server does not serve AsyncActors: ${oneLine(msg)}`, CRD_FIX);
  if (outcome.status === 403) return fail(name, `not allowed to dry-run an AsyncActor in ${namespace}: ${oneLine(msg)}`, 'run check as a user who may create asyncactors.asya.sh, or pass --dry-run-namespace');
  return fail(name, `unexpected answer: ${oneLine(msg)}`, 'kubectl apply --dry-run=server -f examples/ to see what the API server says');
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 400);

// ---- leader lease ----

export interface LeaseLike {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string | Date };
}

export const LEASE_FRESHNESS_FACTOR = 2;

export function checkLease(
  lease: LeaseLike | undefined,
  le: { enabled: boolean; leaseName: string; leaseNamespace: string; leaseDurationSeconds: number },
  now: Date,
): CheckResult {
  const name = `reconciler leader Lease ${le.leaseNamespace}/${le.leaseName}`;
  if (!le.enabled) return skip('reconciler leader Lease', 'leader election disabled in the configuration');
  const fix = `check the reconciler pods: kubectl -n ${le.leaseNamespace} get pods -l app.kubernetes.io/component=reconciler; kubectl -n ${le.leaseNamespace} logs deploy/<release>-reconciler`;
  if (!lease) return fail(name, 'not found: no reconciler has ever led', fix);
  const holder = lease.spec?.holderIdentity;
  if (!holder) return fail(name, 'no holder: the last leader released it and none took over', fix);
  const renew = lease.spec?.renewTime ? new Date(lease.spec.renewTime) : undefined;
  if (!renew || Number.isNaN(renew.getTime())) return fail(name, `held by ${holder} but never renewed`, fix);
  const duration = lease.spec?.leaseDurationSeconds ?? le.leaseDurationSeconds;
  const age = (now.getTime() - renew.getTime()) / 1000;
  if (age > duration * LEASE_FRESHNESS_FACTOR) {
    return fail(name, `held by ${holder}, last renewed ${Math.round(age)}s ago (lease ${duration}s): the leader is gone or stuck`, fix);
  }
  return ok(name, `held by ${holder}, renewed ${Math.max(0, Math.round(age))}s ago`);
}

// ---- transports ----

export type { TransportProbeResult as TransportProbe } from '../transports/plugin.js';

export function checkTransport(name: string, type: string, address: string, probe: TransportProbe, fix: string): CheckResult {
  const title = `transport ${name} (${type} at ${address})`;
  if (probe.ok && probe.missingEndQueues?.length) {
    return fail(
      title,
      `reachable, but the end queue${probe.missingEndQueues.length > 1 ? 's' : ''} ${probe.missingEndQueues.join(', ')} ${probe.missingEndQueues.length > 1 ? 'are' : 'is'} missing: every sidecar requeues a result meant for ${probe.missingEndQueues.length > 1 ? 'them' : 'it'}, without end`,
      'the reconciler declares them when it starts leading and at every resync: check that it runs and holds the leader Lease (its log says why it could not)',
    );
  }
  if (probe.ok) return ok(title, `reachable: ${probe.how}${probe.missingEndQueues ? ', end queues present' : ''}${probe.note ? ` (${probe.note})` : ''}`);
  return fail(title, `unreachable: ${probe.how} failed: ${oneLine(probe.error ?? 'unknown error')}`, fix);
}

// ---- output ----

const SYMBOL: Record<CheckStatus, string> = { ok: '✔', warn: '‼', fail: '✖', skip: '-' };

export function formatResults(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${SYMBOL[r.status]} ${r.name}: ${r.detail}`);
    if (r.fix && r.status !== 'ok') lines.push(`    fix: ${r.fix}`);
  }
  const n = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push('');
  lines.push(
    n('fail') > 0
      ? `Status check results are ✖: ${n('fail')} failed, ${n('warn')} warnings, ${n('ok')} passed`
      : `Status check results are ✔: ${n('ok')} passed, ${n('warn')} warnings`,
  );
  return `${lines.join('\n')}\n`;
}

export const anyFailed = (results: CheckResult[]) => results.some((r) => r.status === 'fail');
