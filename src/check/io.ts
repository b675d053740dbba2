// CheckIO on a real cluster and network: REST calls with the kubeconfig's credentials, TLS handshakes with the
// webhook, an AMQP login, an SQS call. Every call has a timeout so `check` never hangs on a dead endpoint.
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
import type { DryRunOutcome, LeaseLike, TlsProbe, WebhookConfigLike, WebhookTarget } from './checks.js';
import { tlsProbe, verifyCertificatePem } from './probes.js';
import type { TransportConfig } from '../config/schema.js';
import type { ProbeContext, TransportProbeResult } from '../transports/plugin.js';
import { pluginOf } from '../transports/registry.js';
import type { CheckIO } from './run.js';

const TIMEOUT_MS = 8000;

interface RestResponse {
  status: number;
  body: any;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000}s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class KubeRest {
  constructor(private readonly kc: KubeConfig) {}

  async request(method: string, path: string, body?: unknown): Promise<RestResponse> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(path, cluster.server);
    const opts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) opts.headers = { ...(opts.headers as Record<string, string>), 'content-type': 'application/json', 'content-length': String(payload.length) };
    const mod = url.protocol === 'http:' ? http : https;
    return withTimeout(
      new Promise<RestResponse>((resolve, reject) => {
        const req = mod.request(url, opts, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.on('error', reject);
        req.end(payload);
      }),
      TIMEOUT_MS,
      `${method} ${url.pathname}`,
    );
  }

  async get(path: string): Promise<any | undefined> {
    const r = await this.request('GET', path);
    if (r.status === 404) return undefined;
    if (r.status >= 300) throw new Error(`GET ${path}: ${r.status} ${messageOf(r.body)}`);
    return r.body;
  }
}

const messageOf = (body: unknown): string => (body && typeof body === 'object' ? String((body as { message?: unknown }).message ?? JSON.stringify(body)) : String(body));

export class ClusterCheckIO implements CheckIO {
  private readonly rest: KubeRest;

  constructor(kc: KubeConfig) {
    this.rest = new KubeRest(kc);
  }

  async serverVersion(): Promise<string> {
    const r = await this.rest.request('GET', '/version');
    if (r.status !== 200) throw new Error(`GET /version: ${r.status} ${messageOf(r.body)}`);
    return String(r.body.gitVersion ?? 'unknown version');
  }

  async getCrd(name: string): Promise<Record<string, unknown> | undefined> {
    return this.rest.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`);
  }

  async listWebhookConfigs(): Promise<{ validating: WebhookConfigLike[]; mutating: WebhookConfigLike[] }> {
    const v = await this.rest.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations');
    const m = await this.rest.get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations');
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
    const r = await this.rest.request('POST', `/apis/asya.sh/v1alpha1/namespaces/${encodeURIComponent(namespace)}/asyncactors?dryRun=All`, actor);
    if (r.status >= 200 && r.status < 300) return { allowed: true };
    return { allowed: false, status: r.status, message: messageOf(r.body) };
  }

  async getLease(namespace: string, name: string): Promise<LeaseLike | undefined> {
    return this.rest.get(`/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`);
  }

  async findConfig(namespace: string, release?: string): Promise<{ source: string; text: string } | { error: string; fix: string }> {
    const selector = ['app.kubernetes.io/component=config', ...(release ? [`app.kubernetes.io/instance=${release}`] : [])].join(',');
    const list = await this.rest.get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps?labelSelector=${encodeURIComponent(selector)}`);
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
    const r = await this.rest.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`);
    const v = r.status === 200 ? r.body?.data?.[key] : undefined;
    return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
  }
}

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}
