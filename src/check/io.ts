// CheckIO on a real cluster and network: API calls with the kubeconfig's credentials (src/kube/rest.ts), TLS
// handshakes with the webhook, and the transports' own probes. Every call has a timeout.
import type { TransportConfig } from '../config/schema.js';
import type { KubeRest } from '../kube/rest.js';
import type { ProbeContext, TransportProbeResult } from '../transports/plugin.js';
import { pluginOf } from '../transports/registry.js';
import type { DryRunOutcome, LeaseLike, TlsProbe, WebhookConfigLike, WebhookTarget } from './checks.js';
import { tlsProbe, verifyCertificatePem } from './probes.js';
import type { CheckIO } from './run.js';

/** `check` never hangs on a dead endpoint: every API call has this deadline. */
const TIMEOUT_MS = 8000;

const messageOf = (body: unknown): string => (body && typeof body === 'object' ? String((body as { message?: unknown }).message ?? JSON.stringify(body)) : String(body));

export class ClusterCheckIO implements CheckIO {
  constructor(private readonly rest: KubeRest) {}

  private request(method: 'GET' | 'POST', path: string, body?: unknown) {
    return this.rest.request({ method, path, body, timeoutMs: TIMEOUT_MS });
  }

  private async get(path: string): Promise<any | undefined> {
    const r = await this.request('GET', path);
    if (r.status === 404) return undefined;
    if (r.status >= 300) throw new Error(`GET ${path}: ${r.status} ${messageOf(r.body)}`);
    return r.body;
  }

  async serverVersion(): Promise<string> {
    const r = await this.request('GET', '/version');
    if (r.status !== 200) throw new Error(`GET /version: ${r.status} ${messageOf(r.body)}`);
    return String(r.body.gitVersion ?? 'unknown version');
  }

  async getCrd(name: string): Promise<Record<string, unknown> | undefined> {
    return this.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`);
  }

  async listWebhookConfigs(): Promise<{ validating: WebhookConfigLike[]; mutating: WebhookConfigLike[] }> {
    const v = await this.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations');
    const m = await this.get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations');
    return { validating: v?.items ?? [], mutating: m?.items ?? [] };
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
    const r = await this.rest.request({ method: 'POST', path: `/apis/asya.sh/v1alpha1/namespaces/${encodeURIComponent(namespace)}/asyncactors`, query: { dryRun: 'All' }, body: actor, timeoutMs: TIMEOUT_MS });
    if (r.status >= 200 && r.status < 300) return { allowed: true };
    return { allowed: false, status: r.status, message: messageOf(r.body) };
  }

  async getLease(namespace: string, name: string): Promise<LeaseLike | undefined> {
    return this.get(`/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`);
  }

  async findConfig(namespace: string, release?: string): Promise<{ source: string; text: string } | { error: string; fix: string }> {
    const selector = ['app.kubernetes.io/component=config', ...(release ? [`app.kubernetes.io/instance=${release}`] : [])].join(',');
    const list = await this.get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps?labelSelector=${encodeURIComponent(selector)}`);
    const items = ((list?.items ?? []) as Array<{ metadata: { name: string }; data?: Record<string, string> }>).filter((c) => typeof c.data?.['config.yaml'] === 'string');
    if (items.length === 0) {
      return {
        error: `no ConfigMap with config.yaml (label ${selector}) in namespace ${namespace}`,
        fix: 'pass --namespace (and --release) of the installation, or --config with the configuration file',
      };
    }
    if (items.length > 1) return { error: `several ConfigMaps in ${namespace}: ${items.map((c) => c.metadata.name).join(', ')}`, fix: 'pass --release to choose one' };
    return { source: `ConfigMap ${namespace}/${items[0]!.metadata.name}`, text: items[0]!.data!['config.yaml']! };
  }

  probeTransport(transport: TransportConfig, ctx: ProbeContext): Promise<TransportProbeResult> {
    return pluginOf(transport).probe(transport.name, transport.config, ctx);
  }

  async readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined> {
    const r = await this.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`);
    const v = r.status === 200 ? r.body?.data?.[key] : undefined;
    return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
  }
}
