// CheckIO on a real cluster and network: reads through the KubeClient (src/kube/restClient.ts) with the
// kubeconfig's credentials, the two calls that interface does not have (the server version, a dry-run create)
// over the same REST client, TLS handshakes with the webhook, and the transports' own probes. Every call has a
// timeout (the REST client's, set by the check command).
import type { TransportConfig } from '../config/schema.js';
import { KINDS, type KubeClient, type KubeObject } from '../kube/client.js';
import type { KubeRest } from '../kube/rest.js';
import { collectionPath, selectorString } from '../kube/restClient.js';
import type { ProbeContext, TransportProbeResult } from '../transports/plugin.js';
import { pluginOf } from '../transports/registry.js';
import type { DryRunOutcome, LeaseLike, TlsProbe, WebhookConfigLike, WebhookTarget } from './checks.js';
import { tlsProbe, verifyCertificatePem } from './probes.js';
import type { CheckIO } from './run.js';

const messageOf = (body: unknown): string => (body && typeof body === 'object' ? String((body as { message?: unknown }).message ?? JSON.stringify(body)) : String(body));

export class ClusterCheckIO implements CheckIO {
  constructor(
    private readonly client: KubeClient,
    private readonly rest: KubeRest,
  ) {}

  async serverVersion(): Promise<string> {
    const r = await this.rest.request({ path: '/version' });
    if (r.status !== 200) throw new Error(`GET /version: ${r.status} ${messageOf(r.body)}`);
    return String(r.body.gitVersion ?? 'unknown version');
  }

  async getCrd(name: string): Promise<Record<string, unknown> | undefined> {
    return this.client.get(KINDS.crd, '', name);
  }

  async listWebhookConfigs(): Promise<{ validating: WebhookConfigLike[]; mutating: WebhookConfigLike[] }> {
    const [validating, mutating] = await Promise.all([this.client.list(KINDS.validatingWebhookConfiguration, undefined), this.client.list(KINDS.mutatingWebhookConfiguration, undefined)]);
    return { validating: validating as unknown as WebhookConfigLike[], mutating: mutating as unknown as WebhookConfigLike[] };
  }

  async probeTls(target: WebhookTarget): Promise<TlsProbe> {
    const probe = await tlsProbe(target.host, target.port, target.caPem);
    // A Service name resolves only inside the cluster: from a laptop, verify the certificate the webhook
    // mounts (the chart's Secret <service>-tls) instead of the one it presents.
    if (probe.error && target.service && (probe.code === 'ENOTFOUND' || probe.code === 'EAI_AGAIN')) {
      const secretName = `${target.service.name}-tls`;
      const crt = await this.readSecretKey(target.service.namespace, secretName, 'tls.crt');
      if (crt) return { ...verifyCertificatePem(crt, target.caPem, target.host, new Date()), source: `Secret ${target.service.namespace}/${secretName}` };
    }
    const { code: _code, ...rest } = probe;
    return rest;
  }

  async dryRunCreateActor(namespace: string, actor: Record<string, unknown>): Promise<DryRunOutcome> {
    const r = await this.rest.request({ method: 'POST', path: collectionPath(KINDS.actor, namespace), query: { dryRun: 'All' }, body: actor });
    if (r.status >= 200 && r.status < 300) return { allowed: true };
    return { allowed: false, status: r.status, message: messageOf(r.body) };
  }

  async getLease(namespace: string, name: string): Promise<LeaseLike | undefined> {
    return this.client.get<KubeObject & LeaseLike>(KINDS.lease, namespace, name);
  }

  async findConfig(namespace: string, release?: string): Promise<{ source: string; text: string } | { error: string; fix: string }> {
    const labels: Record<string, string> = { 'app.kubernetes.io/component': 'config', ...(release ? { 'app.kubernetes.io/instance': release } : {}) };
    const selector = selectorString(labels);
    const list = await this.client.list<KubeObject & { data?: Record<string, string> }>(KINDS.configMap, namespace, { labelSelector: labels });
    const items = list.filter((c) => typeof c.data?.['config.yaml'] === 'string');
    if (items.length === 0) {
      return {
        error: `no ConfigMap with config.yaml (label ${selector}) in namespace ${namespace}`,
        fix: 'pass --namespace (and --release) of the installation, or --config with the configuration file',
      };
    }
    if (items.length > 1) return { error: `several ConfigMaps in ${namespace}: ${items.map((c) => c.metadata.name).join(', ')}`, fix: 'pass --release to choose one' };
    return { source: `ConfigMap ${namespace}/${items[0]!.metadata.name ?? ''}`, text: items[0]!.data!['config.yaml']! };
  }

  probeTransport(transport: TransportConfig, ctx: ProbeContext): Promise<TransportProbeResult> {
    return pluginOf(transport).probe(transport.name, transport.config, ctx);
  }

  async readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined> {
    // Not readable (no RBAC for Secrets where check runs) is the same as absent: the callers fall back.
    const secret = await this.client.get<KubeObject & { data?: Record<string, string> }>(KINDS.secret, namespace, name).catch(() => undefined);
    const v = secret?.data?.[key];
    return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
  }
}
