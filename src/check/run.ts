// `asya-webhook check`: the order of the checks and what each one reads, through CheckIO (src/check/io.ts talks
// to the API server and the network; the unit tests pass a fake). Every decision is in checks.ts.
import { buildCrd } from '../api/crd.js';
import { ConfigError, parseConfigText } from '../config/load.js';
import type { OperatorConfig, TransportConfig } from '../config/schema.js';
import type { ProbeContext, TransportProbeResult } from '../transports/plugin.js';
import { END_QUEUES } from '../names.js';
import { pluginOf } from '../transports/registry.js';
import { ACTOR_CRD_NAME, API_GROUP, API_VERSION, ACTOR_KIND } from '../names.js';
import {
  CERT_MANAGER_CRDS,
  KEDA_CRDS,
  checkActorCrd,
  checkDryRun,
  checkLease,
  checkRequiredCrd,
  checkServingCertificate,
  checkTransport,
  checkWebhookConfigs,
  type CheckResult,
  type DryRunOutcome,
  type LeaseLike,
  type TlsProbe,
  type WebhookConfigLike,
  type WebhookTarget,
} from './checks.js';

export interface CheckIO {
  /** GET /version: the API server answers these credentials. */
  serverVersion(): Promise<string>;
  /** A CustomResourceDefinition, or undefined when there is none of that name. */
  getCrd(name: string): Promise<Record<string, unknown> | undefined>;
  listWebhookConfigs(): Promise<{ validating: WebhookConfigLike[]; mutating: WebhookConfigLike[] }>;
  /** TLS handshake with the webhook, verifying against target.caPem. */
  probeTls(target: WebhookTarget): Promise<TlsProbe>;
  /** POST with dryRun=All; never stores. */
  dryRunCreateActor(namespace: string, actor: Record<string, unknown>): Promise<DryRunOutcome>;
  getLease(namespace: string, name: string): Promise<LeaseLike | undefined>;
  /** The chart's configuration file (ConfigMap with key config.yaml) in the namespace, or why not. */
  findConfig(namespace: string, release?: string): Promise<{ source: string; text: string } | { error: string; fix: string }>;
  /** One key of a Secret, or undefined when it is missing or not readable with these credentials. */
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  /** Reaches the broker of a transport (its plugin's probe). */
  probeTransport(transport: TransportConfig, ctx: ProbeContext): Promise<TransportProbeResult>;
}

export interface CheckOptions {
  /** Namespace of the installation (the chart's ConfigMap, Secrets). */
  namespace: string;
  release?: string;
  /** Namespace of the dry-run AsyncActor: one the webhook is not excluded from. */
  dryRunNamespace: string;
  /** A configuration file given on the command line instead of the ConfigMap. */
  config?: { source: string; text: string };
  now?: () => Date;
}

/** An actor only our webhook refuses: the CRD schema accepts any transport name. */
export function dryRunActor(namespace: string): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: ACTOR_KIND,
    metadata: { name: 'asya-check-dry-run', namespace },
    spec: {
      transport: 'asya-check-no-such-transport',
      workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'asya-check:dry-run' }] } } },
    },
  };
}

async function guard(name: string, fix: string, fn: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await fn();
  } catch (err) {
    return [{ name, status: 'fail', detail: `error: ${(err as Error).message}`, fix }];
  }
}

export async function runChecks(io: CheckIO, opts: CheckOptions): Promise<CheckResult[]> {
  const now = opts.now ?? (() => new Date());
  const results: CheckResult[] = [];
  try {
    const v = await io.serverVersion();
    results.push({ name: 'Kubernetes API', status: 'ok', detail: `reachable (${v})` });
  } catch (err) {
    results.push({ name: 'Kubernetes API', status: 'fail', detail: `cannot reach it: ${(err as Error).message}`, fix: 'check --kubeconfig / KUBECONFIG and the current context' });
    return results;
  }

  const fixCrd = 'check the credentials may get customresourcedefinitions';
  results.push(...(await guard(`CRD ${ACTOR_CRD_NAME}`, fixCrd, async () => [checkActorCrd(await io.getCrd(ACTOR_CRD_NAME), buildCrd())])));
  for (const crd of KEDA_CRDS) results.push(...(await guard(`${crd.owner} CRD ${crd.name}`, fixCrd, async () => [checkRequiredCrd(crd, !!(await io.getCrd(crd.name)))])));

  let targets: WebhookTarget[] = [];
  let usesCertManager = false;
  results.push(
    ...(await guard('webhook configurations', 'check the credentials may list validating/mutatingwebhookconfigurations', async () => {
      const { validating, mutating } = await io.listWebhookConfigs();
      const r = checkWebhookConfigs(validating, mutating, opts.release);
      targets = r.targets;
      usesCertManager = r.usesCertManager;
      return r.results;
    })),
  );
  for (const crd of CERT_MANAGER_CRDS) {
    results.push(
      ...(await guard(`${crd.owner} CRD ${crd.name}`, fixCrd, async () => [
        usesCertManager ? checkRequiredCrd(crd, !!(await io.getCrd(crd.name))) : checkRequiredCrd(crd, undefined, 'not required: the webhook configurations do not use cert-manager'),
      ])),
    );
  }
  for (const t of targets) {
    results.push(...(await guard(`webhook certificate (${t.endpoint})`, 'check the network path to the webhook', async () => checkServingCertificate(t, await io.probeTls(t), now()))));
  }
  results.push(
    ...(await guard('webhook answers the API server', 'check the credentials may create asyncactors', async () => [
      checkDryRun(await io.dryRunCreateActor(opts.dryRunNamespace, dryRunActor(opts.dryRunNamespace)), opts.dryRunNamespace),
    ])),
  );

  // The rest needs the configuration both processes read.
  let config: OperatorConfig | undefined;
  const found = opts.config ?? (await io.findConfig(opts.namespace, opts.release).catch((err: Error) => ({ error: err.message, fix: 'check the credentials may list configmaps in the namespace' })));
  if ('error' in found) {
    results.push({ name: 'operator configuration', status: 'fail', detail: found.error, fix: found.fix });
  } else {
    try {
      config = parseConfigText(found.text, found.source);
      const enabled = Object.values(config.transports).filter((t) => t.enabled).map((t) => t.name);
      results.push({ name: 'operator configuration', status: 'ok', detail: `${found.source}: transports ${enabled.join(', ') || 'none'}` });
    } catch (err) {
      const detail = err instanceof ConfigError ? err.errors.map((e) => `${e.path}: ${e.message}`).join('; ') : (err as Error).message;
      results.push({ name: 'operator configuration', status: 'fail', detail: `${found.source} is invalid: ${detail}`, fix: 'fix the values and helm upgrade (the webhook and reconciler refuse to start with it)' });
    }
  }
  if (!config) return results;

  const le = config.reconciler.leaderElection;
  results.push(...(await guard(`reconciler leader Lease ${le.leaseNamespace}/${le.leaseName}`, 'check the credentials may get leases', async () => [checkLease(le.enabled ? await io.getLease(le.leaseNamespace, le.leaseName) : undefined, le, now())])));

  for (const t of Object.values(config.transports)) {
    if (!t.enabled) continue;
    const plugin = pluginOf(t);
    const address = plugin.address(t.config);
    results.push(
      ...(await guard(`transport ${t.name} (${t.type} at ${address})`, 'check the broker', async () => {
        const probe = await io.probeTransport(t, { namespace: opts.namespace, readSecretKey: (name, key) => io.readSecretKey(opts.namespace, name, key), endQueues: END_QUEUES });
        return [checkTransport(t.name, t.type, address, probe, plugin.probeFix(t.name, t.config))];
      })),
    );
  }
  return results;
}
