// charts/asya-operator with the real helm: lint --strict, then a matrix of values rendered once each (a few
// helm processes at a time) and checked: webhook configurations, certificates, RBAC per resource, security
// contexts, probes, PDB, and the rendered config.yaml through the loader both processes use.
import { ACTOR_MUTATING_WEBHOOK_NAME, ACTOR_VALIDATING_WEBHOOK_NAME, POD_WEBHOOK_NAME } from '../../src/names.js';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IMutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import type { IValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Pod } from 'kubernetes-models/v1/Pod';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { parseConfigText } from '../../src/config/load.js';
import type { OperatorConfig } from '../../src/config/schema.js';
import { ACTOR_LABEL } from '../../src/names.js';
import { ACTOR_CHART, OPERATOR_CHART, RELEASE_NAMESPACE, Rendered, runHelm, template, templateRaw, type K8sObject } from './helm.support.js';

const FULLNAME = 'asya-operator';
const WEBHOOK = `${FULLNAME}-webhook`;
const RECONCILER = `${FULLNAME}-reconciler`;
const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/** The values matrix of issue 5; each case is rendered once and shared by every assertion. */
const CASES = {
  defaults: {},
  noCertManager: { certManager: { enabled: false } },
  clusterIssuer: { certManager: { issuerRef: { kind: 'ClusterIssuer', name: 'corp-ca' } } },
  rabbitmq: {
    transports: {
      rabbitmq: {
        enabled: true,
        type: 'rabbitmq',
        config: {
          host: 'rabbitmq.messaging.svc',
          port: 5671,
          tls: true,
          vhost: 'asya',
          username: 'asya',
          passwordSecretRef: { name: 'rmq-credentials', key: 'password' },
          exchange: 'asya',
          managementPort: 15672,
          deadLetter: { enabled: true },
        },
      },
      'rabbitmq-legacy': { enabled: false, type: 'rabbitmq', config: { host: 'old-rabbit' } },
    },
  },
  sqsIrsa: {
    serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/asya-operator' } },
    transports: {
      rabbitmq: { enabled: false },
      sqs: {
        enabled: true,
        type: 'sqs',
        config: {
          region: 'eu-west-1',
          queueBaseURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012',
          actorRoleArn: 'arn:aws:iam::123456789012:role/asya-actor',
          deadLetter: { enabled: true, maxReceiveCount: 3 },
        },
      },
    },
  },
  ha: {
    replicaCount: 2,
    webhook: { replicaCount: 3, priorityClassName: 'system-cluster-critical', podDisruptionBudget: { maxUnavailable: 1 } },
  },
  customSidecar: {
    sidecar: {
      image: 'registry.example.com/asya/sidecar:1.4.2',
      imagePullPolicy: 'Always',
      native: true,
      logLevel: 'debug',
      defaultResources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '1', memory: '128Mi' } },
    },
    gatewayURL: 'http://asya-gateway.asya.svc:8080',
  },
  outOfCluster: {
    webhook: { url: 'https://127.0.0.1:9443/', caBundle: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') },
    certManager: { enabled: false },
    reconciler: { enabled: false },
  },
  runtimeInline: { runtime: { source: 'inline', script: 'print("runtime")\n' } },
  runtimeGithub: { runtime: { source: 'github', github: { version: 'v1.0.0' } } },
  monitoring: { metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } }, webhook: { excludedNamespaces: ['monitoring', 'kube-system'] } },
  noMetrics: { metrics: { enabled: false }, leaderElection: { enabled: false } },
} satisfies Record<string, Record<string, unknown>>;
type CaseName = keyof typeof CASES;

const renders = new Map<CaseName, Rendered>();
beforeAll(async () => {
  const names = Object.keys(CASES) as CaseName[];
  const docs = await Promise.all(names.map((n) => template(OPERATOR_CHART, { values: CASES[n] })));
  names.forEach((n, i) => renders.set(n, new Rendered(docs[i]!)));
}, 120_000);
const r = (name: CaseName): Rendered => renders.get(name)!;
const allCases = Object.keys(CASES) as CaseName[];

function configOf(rendered: Rendered): OperatorConfig {
  const cm = rendered.get('ConfigMap', `${FULLNAME}-config`) as K8sObject & { data: Record<string, string> };
  return parseConfigText(cm.data['config.yaml']!, 'rendered config.yaml');
}
const deployment = (rendered: Rendered, name: string) => rendered.get('Deployment', name) as unknown as IDeployment;
const container = (d: IDeployment): IContainer => d.spec!.template.spec!.containers[0]!;
const validating = (rendered: Rendered) => rendered.get('ValidatingWebhookConfiguration') as unknown as IValidatingWebhookConfiguration;
const mutating = (rendered: Rendered) => rendered.get('MutatingWebhookConfiguration') as unknown as IMutatingWebhookConfiguration;
const allWebhooks = (rendered: Rendered) => [...(validating(rendered).webhooks ?? []), ...(mutating(rendered).webhooks ?? [])];

test.each([OPERATOR_CHART, ACTOR_CHART])('helm lint --strict %s', async (chart) => {
  const res = await runHelm(['lint', '--strict', chart, '--namespace', RELEASE_NAMESPACE]);
  expect(res.stderr + res.stdout).toContain('0 chart(s) failed');
  expect(res.code).toBe(0);
});

test('helm lint --strict fails on a chart error (the lint is not a no-op)', async () => {
  const res = await runHelm(['lint', '--strict', OPERATOR_CHART, '--namespace', RELEASE_NAMESPACE, '--set', 'webhook.url=http://insecure']);
  expect(res.code).not.toBe(0);
});

describe.each(allCases)('values case %s', (name) => {
  test('every object parses with the Kubernetes schemas (kubernetes-models) and carries the standard labels', () => {
    const models: Record<string, new (d: never) => { validate(): void }> = {
      Deployment, Service, ServiceAccount, ConfigMap, Secret, Pod, PodDisruptionBudget, ClusterRole, ClusterRoleBinding, Role, RoleBinding,
      MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
    };
    for (const doc of r(name).docs) {
      const Model = models[doc.kind];
      if (Model) expect(() => new Model(doc as never).validate()).not.toThrow();
      if (doc.metadata.annotations?.['helm.sh/hook']) continue;
      expect(doc.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'asya-operator', 'app.kubernetes.io/instance': 'asya-operator', 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/part-of': 'asya' });
    }
  });

  test('the rendered config.yaml is accepted by the configuration loader of the webhook and the reconciler', () => {
    const config = configOf(r(name));
    for (const ns of [...SYSTEM_NAMESPACES, RELEASE_NAMESPACE]) expect(config.webhook.excludedNamespaces).toContain(ns);
    expect(config.reconciler.leaderElection.leaseNamespace).toBe(RELEASE_NAMESPACE);
    expect(config.reconciler.leaderElection.leaseName).toBe(RECONCILER);
  });

  test('both webhook configurations: scoped, sideEffects None, v1 reviews, short timeout, the release and system namespaces excluded', () => {
    const hooks = allWebhooks(r(name));
    // The chart's names are the ones src/names.ts gives the reconciler and check.
    expect(hooks.map((h) => h.name).sort()).toEqual([POD_WEBHOOK_NAME, ACTOR_MUTATING_WEBHOOK_NAME, ACTOR_VALIDATING_WEBHOOK_NAME].sort());
    for (const h of hooks) {
      expect(h.sideEffects).toBe('None');
      expect(h.admissionReviewVersions).toEqual(['v1']);
      expect(h.timeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(h.timeoutSeconds).toBeLessThanOrEqual(10);
      const expr = h.namespaceSelector?.matchExpressions ?? [];
      expect(expr).toHaveLength(1);
      expect(expr[0]).toMatchObject({ key: 'kubernetes.io/metadata.name', operator: 'NotIn' });
      for (const ns of [...SYSTEM_NAMESPACES, RELEASE_NAMESPACE]) expect(expr[0]!.values).toContain(ns);
    }
    const pods = hooks.find((h) => h.name === 'inject.pods.asya.sh')!;
    expect(pods.objectSelector).toEqual({ matchExpressions: [{ key: ACTOR_LABEL, operator: 'Exists' }] });
    expect(pods.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }]);
    expect((pods as { reinvocationPolicy?: string }).reinvocationPolicy).toBe('IfNeeded');
    expect(pods.clientConfig.service?.path ?? pods.clientConfig.url).toMatch(/\/mutate\/pods$/);
    for (const h of hooks.filter((x) => x.name !== 'inject.pods.asya.sh')) {
      expect(h.objectSelector).toBeUndefined();
      expect(h.rules).toEqual([{ apiGroups: ['asya.sh'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['asyncactors'], scope: 'Namespaced' }]);
      expect(h.failurePolicy).toBe('Fail');
    }
    const byName = Object.fromEntries(hooks.map((h) => [h.name, h.clientConfig.service?.path ?? h.clientConfig.url]));
    expect(byName['validate.asyncactors.asya.sh']).toMatch(/\/validate\/asyncactors$/);
    expect(byName['mutate.asyncactors.asya.sh']).toMatch(/\/mutate\/asyncactors$/);
  });
});

describe('certificates', () => {
  test.each(['defaults', 'clusterIssuer', 'rabbitmq', 'ha'] as CaseName[])('%s: cert-manager chain, inject-ca-from on both configurations, no caBundle', (name) => {
    const rendered = r(name);
    for (const cfg of [validating(rendered), mutating(rendered)]) {
      expect(cfg.metadata?.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${RELEASE_NAMESPACE}/${WEBHOOK}-tls`);
      for (const h of cfg.webhooks ?? []) {
        expect(h.clientConfig.caBundle).toBeUndefined();
        expect(h.clientConfig.service).toEqual({ name: WEBHOOK, namespace: RELEASE_NAMESPACE, path: expect.any(String), port: 443 });
      }
    }
    expect(rendered.find('Secret', `${WEBHOOK}-tls`)).toBeUndefined();
    const serving = rendered.get('Certificate', `${WEBHOOK}-tls`) as K8sObject & { spec: Record<string, unknown> };
    expect(serving.spec.secretName).toBe(`${WEBHOOK}-tls`);
    expect(serving.spec.dnsNames).toEqual([WEBHOOK, `${WEBHOOK}.${RELEASE_NAMESPACE}`, `${WEBHOOK}.${RELEASE_NAMESPACE}.svc`, `${WEBHOOK}.${RELEASE_NAMESPACE}.svc.cluster.local`]);
    const wh = deployment(rendered, WEBHOOK);
    const tlsVolume = wh.spec!.template.spec!.volumes!.find((v) => v.name === 'tls');
    expect(tlsVolume?.secret?.secretName).toBe(`${WEBHOOK}-tls`);
    // Mounted as a directory (no subPath) so that renewed certificates reach the running server.
    const mount = container(wh).volumeMounts!.find((m) => m.name === 'tls')!;
    expect(mount.subPath).toBeUndefined();
    expect(container(wh).args).toContain(`--cert-dir=${mount.mountPath}`);
  });

  test('defaults: self-signed Issuer -> CA Certificate -> CA Issuer -> serving Certificate', () => {
    const rendered = r('defaults');
    const issuers = rendered.all('Issuer') as Array<K8sObject & { spec: Record<string, { secretName?: string }> }>;
    expect(issuers.map((i) => i.metadata.name).sort()).toEqual([`${FULLNAME}-ca`, `${FULLNAME}-selfsigned`]);
    expect(rendered.get('Issuer', `${FULLNAME}-selfsigned`)).toMatchObject({ spec: { selfSigned: {} } });
    const ca = rendered.get('Certificate', `${FULLNAME}-ca`);
    expect(ca).toMatchObject({ spec: { isCA: true, secretName: `${FULLNAME}-ca`, issuerRef: { kind: 'Issuer', name: `${FULLNAME}-selfsigned` } } });
    expect(rendered.get('Issuer', `${FULLNAME}-ca`)).toMatchObject({ spec: { ca: { secretName: `${FULLNAME}-ca` } } });
    expect(rendered.get('Certificate', `${WEBHOOK}-tls`)).toMatchObject({ spec: { issuerRef: { kind: 'Issuer', name: `${FULLNAME}-ca` } } });
  });

  test('clusterIssuer: the given issuer signs the serving certificate and the chart makes no CA of its own', () => {
    const rendered = r('clusterIssuer');
    expect(rendered.all('Issuer')).toHaveLength(0);
    expect(rendered.all('Certificate')).toHaveLength(1);
    expect(rendered.get('Certificate')).toMatchObject({ spec: { issuerRef: { kind: 'ClusterIssuer', name: 'corp-ca', group: 'cert-manager.io' } } });
  });

  test('noCertManager: a generated CA whose caBundle verifies the serving certificate for the Service name', () => {
    const rendered = r('noCertManager');
    expect(rendered.all('Certificate')).toHaveLength(0);
    expect(rendered.all('Issuer')).toHaveLength(0);
    const secret = rendered.get('Secret', `${WEBHOOK}-tls`) as K8sObject & { type: string; data: Record<string, string> };
    expect(secret.type).toBe('kubernetes.io/tls');
    const pem = (k: string) => Buffer.from(secret.data[k]!, 'base64').toString('utf8');
    expect(pem('tls.key')).toMatch(/PRIVATE KEY/);
    const ca = new X509Certificate(pem('ca.crt'));
    const cert = new X509Certificate(pem('tls.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost(`${WEBHOOK}.${RELEASE_NAMESPACE}.svc`)).toBe(`${WEBHOOK}.${RELEASE_NAMESPACE}.svc`);
    for (const cfg of [validating(rendered), mutating(rendered)]) {
      expect(cfg.metadata?.annotations?.['cert-manager.io/inject-ca-from']).toBeUndefined();
      for (const h of cfg.webhooks ?? []) expect(h.clientConfig.caBundle).toBe(secret.data['ca.crt']);
    }
  });

  test('noCertManager: without a cluster each render makes a new CA (helm install reuses the stored one through lookup)', async () => {
    const again = new Rendered(await template(OPERATOR_CHART, { values: CASES.noCertManager }));
    const ca = (x: Rendered) => (x.get('Secret', `${WEBHOOK}-tls`) as K8sObject & { data: Record<string, string> }).data['ca.crt'];
    expect(ca(again)).not.toBe(ca(r('noCertManager')));
    const tpl = await import('node:fs').then((fs) => fs.readFileSync(`${OPERATOR_CHART}/templates/webhook-configurations.yaml`, 'utf8'));
    expect(tpl).toMatch(/lookup "v1" "Secret" \$ns \$secretName/);
  });

  test('outOfCluster: clientConfig.url + caBundle, no Service, no webhook Deployment, no certificates', () => {
    const rendered = r('outOfCluster');
    for (const h of allWebhooks(rendered)) {
      expect(h.clientConfig.service).toBeUndefined();
      expect(h.clientConfig.url).toMatch(/^https:\/\/127\.0\.0\.1:9443\/(validate|mutate)\//);
      expect(h.clientConfig.caBundle).toBe(CASES.outOfCluster.webhook.caBundle);
    }
    expect(allWebhooks(rendered).map((h) => h.clientConfig.url).sort()).toEqual([
      'https://127.0.0.1:9443/mutate/asyncactors',
      'https://127.0.0.1:9443/mutate/pods',
      'https://127.0.0.1:9443/validate/asyncactors',
    ]);
    expect(rendered.all('Deployment')).toHaveLength(0);
    expect(rendered.all('Service')).toHaveLength(0);
    expect(rendered.all('Certificate')).toHaveLength(0);
    expect(rendered.all('Secret')).toHaveLength(0);
    expect(rendered.all('Pod')).toHaveLength(0);
    expect(validating(rendered).metadata?.annotations?.['cert-manager.io/inject-ca-from']).toBeUndefined();
  });
});

describe('RBAC: each component its own ServiceAccount and only the verbs it uses', () => {
  type Rules = Record<string, string[]>;
  const rulesOf = (role: IClusterRole | IRole): Rules => {
    const out: Rules = {};
    for (const rule of role.rules ?? []) {
      for (const g of rule.apiGroups ?? []) {
        for (const res of rule.resources ?? []) {
          const key = `${g || 'core'}/${res}${rule.resourceNames ? `[${rule.resourceNames.join(',')}]` : ''}`;
          out[key] = [...(out[key] ?? []), ...(rule.verbs ?? [])].sort();
        }
      }
    }
    return out;
  };

  test('webhook: list and watch AsyncActors, nothing else', () => {
    expect(rulesOf(r('defaults').get('ClusterRole', WEBHOOK) as unknown as IClusterRole)).toEqual({ 'asya.sh/asyncactors': ['list', 'watch'] });
    expect(r('defaults').find('Role', WEBHOOK)).toBeUndefined();
  });

  test('reconciler: per resource, no wildcard, no secrets cluster-wide', () => {
    const cluster = rulesOf(r('defaults').get('ClusterRole', RECONCILER) as unknown as IClusterRole);
    // What src/kube/client.ts can do (no patch), per resource; list/watch only where the reconciler watches.
    expect(cluster).toEqual({
      'asya.sh/asyncactors': ['get', 'list', 'update', 'watch'],
      'asya.sh/asyncactors/status': ['update'],
      'asya.sh/asyncactors/finalizers': ['update'],
      'apps/deployments': ['create', 'delete', 'get', 'list', 'update', 'watch'],
      'apps/statefulsets': ['create', 'delete', 'get', 'list', 'update', 'watch'],
      'core/pods': ['delete', 'list', 'watch'],
      'admissionregistration.k8s.io/mutatingwebhookconfigurations': ['list'],
      // Any ConfigMap may be created (RBAC cannot limit create by name); only asya-runtime read, watched, updated.
      'core/configmaps': ['create'],
      'core/configmaps[asya-runtime]': ['get', 'list', 'update', 'watch'],
      'keda.sh/scaledobjects': ['create', 'delete', 'get', 'list', 'update', 'watch'],
      'keda.sh/triggerauthentications': ['create', 'delete', 'get', 'list', 'update', 'watch'],
      'autoscaling/horizontalpodautoscalers': ['get', 'list', 'watch'],
      'core/events': ['create'],
    });
    expect(Object.keys(cluster).filter((k) => k.includes('secrets'))).toEqual([]);
    for (const verbs of Object.values(cluster)) expect(verbs).not.toContain('*');
  });

  test('reconciler: ServiceAccount rights only when an SQS transport has an IRSA role', () => {
    expect(rulesOf(r('sqsIrsa').get('ClusterRole', RECONCILER) as unknown as IClusterRole)['core/serviceaccounts']).toEqual(['create', 'delete', 'get', 'list', 'update', 'watch']);
    expect(rulesOf(r('defaults').get('ClusterRole', RECONCILER) as unknown as IClusterRole)['core/serviceaccounts']).toBeUndefined();
  });

  test('reconciler, release namespace only: its own Lease by name, no Secrets (passwords are mounted files)', () => {
    expect(rulesOf(r('defaults').get('Role', RECONCILER) as unknown as IRole)).toEqual({
      'coordination.k8s.io/leases': ['create'],
      [`coordination.k8s.io/leases[${RECONCILER}]`]: ['get', 'update'],
    });
    // Without leader election, no Lease rights at all.
    expect(r('noMetrics').find('Role', RECONCILER)).toBeUndefined();
    expect(r('noMetrics').find('RoleBinding', RECONCILER)).toBeUndefined();
  });

  test('RabbitMQ passwords: each enabled transport\'s Secret mounted in the reconciler, its file named in the configuration', () => {
    for (const [name, transport, secret] of [['defaults', 'rabbitmq', 'rabbitmq-secret'], ['rabbitmq', 'rabbitmq', 'rmq-credentials']] as const) {
      const rendered = r(name);
      const file = configOf(rendered).transports[transport]!.config as { passwordFile?: string };
      const pod = deployment(rendered, RECONCILER).spec!.template.spec!;
      const volume = pod.volumes!.find((v) => v.secret?.secretName === secret)!;
      expect(volume.secret!.items).toEqual([{ key: 'password', path: 'password' }]);
      const mount = container(deployment(rendered, RECONCILER)).volumeMounts!.find((m) => m.name === volume.name)!;
      expect(file.passwordFile).toBe(`${mount.mountPath}/password`);
      // The webhook reads no Secret.
      expect(deployment(rendered, WEBHOOK).spec!.template.spec!.volumes!.some((v) => v.secret?.secretName === secret)).toBe(false);
    }
    // A disabled transport gets no mount (its Secret may not exist).
    expect((configOf(r('rabbitmq')).transports['rabbitmq-legacy']!.config as { passwordFile?: string }).passwordFile).toBeUndefined();
    expect(deployment(r('sqsIrsa'), RECONCILER).spec!.template.spec!.volumes!.filter((v) => v.secret)).toEqual([]);
  });

  test('bindings: each ServiceAccount bound to its own role', () => {
    const rendered = r('defaults');
    for (const [name, kind] of [[WEBHOOK, 'ClusterRoleBinding'], [RECONCILER, 'ClusterRoleBinding'], [RECONCILER, 'RoleBinding']] as const) {
      expect(rendered.get(kind, name)).toMatchObject({ roleRef: { name }, subjects: [{ kind: 'ServiceAccount', name, namespace: RELEASE_NAMESPACE }] });
    }
    expect(deployment(rendered, WEBHOOK).spec!.template.spec!.serviceAccountName).toBe(WEBHOOK);
    expect(deployment(rendered, RECONCILER).spec!.template.spec!.serviceAccountName).toBe(RECONCILER);
  });

  test('sqsIrsa: the IRSA annotation goes on the reconciler ServiceAccount (it manages queues), not the webhook one', () => {
    const rendered = r('sqsIrsa');
    expect(rendered.get('ServiceAccount', RECONCILER).metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/asya-operator' });
    expect(rendered.get('ServiceAccount', WEBHOOK).metadata.annotations).toBeUndefined();
    const config = configOf(rendered);
    expect(config.transports.sqs).toMatchObject({ enabled: true, type: 'sqs', config: { region: 'eu-west-1', actorRoleArn: 'arn:aws:iam::123456789012:role/asya-actor' } });
    expect(config.transports.rabbitmq?.enabled).toBe(false);
  });
});

describe('Deployments', () => {
  test.each(allCases.filter((c) => c !== 'outOfCluster'))('%s: non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp, probes', (name) => {
    for (const d of r(name).all('Deployment') as unknown as IDeployment[]) {
      const pod = d.spec!.template.spec!;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
        expect(c.resources?.requests).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
      const c = pod.containers[0]!;
      expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'health' });
      expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'health' });
      expect(c.startupProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'health' });
      expect(c.ports?.find((p) => p.name === 'health')?.containerPort).toBe(8081);
      // /tmp is writable on a read-only root filesystem.
      expect(c.volumeMounts?.find((m) => m.mountPath === '/tmp')).toBeDefined();
      // The configuration is mounted as a directory holding config.yaml, as the CLI is told.
      expect(c.volumeMounts?.find((m) => m.name === 'config')).toMatchObject({ mountPath: '/etc/asya', readOnly: true });
      expect(c.args).toContain('--config=/etc/asya/config.yaml');
      expect(pod.volumes?.find((v) => v.name === 'config')?.configMap?.name).toBe(`${FULLNAME}-config`);
      expect(d.spec!.template.metadata?.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('defaults: the webhook runs `serve` with 2 replicas spread across nodes, a PDB, and never drops below its replicas while rolling', () => {
    const rendered = r('defaults');
    const wh = deployment(rendered, WEBHOOK);
    expect(container(wh).args).toEqual([
      'serve', '--config=/etc/asya/config.yaml', '--cert-dir=/var/run/asya/tls', '--port=8443', '--health-port=8081', '--metrics-port=8080', '--body-limit=8mb', '--log-level=info',
    ]);
    expect(wh.spec!.replicas).toBe(2);
    expect(wh.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const spread = wh.spec!.template.spec!.topologySpreadConstraints!;
    expect(spread.map((s) => s.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const s of spread) {
      expect(s.whenUnsatisfiable).toBe('ScheduleAnyway');
      expect(s.labelSelector?.matchLabels).toEqual(wh.spec!.selector.matchLabels);
    }
    expect(rendered.get('PodDisruptionBudget', WEBHOOK)).toMatchObject({ spec: { maxUnavailable: 1, selector: { matchLabels: wh.spec!.selector.matchLabels } } });
    const svc = rendered.get('Service', WEBHOOK) as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> } };
    expect(svc.spec.selector).toEqual(wh.spec!.selector.matchLabels);
    expect(svc.spec.ports.find((p) => p.name === 'https')).toMatchObject({ port: 443, targetPort: 'webhook' });
    expect(container(wh).ports?.find((p) => p.name === 'webhook')?.containerPort).toBe(8443);
  });

  test('defaults: the reconciler runs `controller` with leader election, and the webhook and reconciler select disjoint pods', () => {
    const rendered = r('defaults');
    const rc = deployment(rendered, RECONCILER);
    expect(container(rc).args?.slice(0, 4)).toEqual(['controller', '--config=/etc/asya/config.yaml', '--health-port=8081', '--metrics-port=8080']);
    expect(rc.spec!.replicas).toBe(1);
    expect(configOf(rendered).reconciler.leaderElection.enabled).toBe(true);
    expect(rc.spec!.selector.matchLabels?.['app.kubernetes.io/component']).toBe('reconciler');
    expect(deployment(rendered, WEBHOOK).spec!.selector.matchLabels?.['app.kubernetes.io/component']).toBe('webhook');
  });

  test('ha: replicas and priority class as given, PDB kept', () => {
    const rendered = r('ha');
    expect(deployment(rendered, RECONCILER).spec!.replicas).toBe(2);
    expect(deployment(rendered, WEBHOOK).spec!.replicas).toBe(3);
    expect(deployment(rendered, WEBHOOK).spec!.template.spec!.priorityClassName).toBe('system-cluster-critical');
    expect(rendered.find('PodDisruptionBudget', WEBHOOK)).toBeDefined();
  });

  test('noMetrics: no metrics ports or reconciler metrics Service; without leader election the reconciler never overlaps (Recreate)', () => {
    const rendered = r('noMetrics');
    for (const d of rendered.all('Deployment') as unknown as IDeployment[]) expect(container(d).ports?.map((p) => p.name)).not.toContain('metrics');
    expect(rendered.find('Service', `${RECONCILER}-metrics`)).toBeUndefined();
    expect(deployment(rendered, RECONCILER).spec!.strategy).toEqual({ type: 'Recreate' });
    expect(configOf(rendered).reconciler.leaderElection.enabled).toBe(false);
  });

  test('monitoring: one ServiceMonitor for the metrics port of both components; extra excluded namespaces merged without duplicates', () => {
    const rendered = r('monitoring');
    expect(rendered.get('ServiceMonitor')).toMatchObject({ metadata: { labels: { release: 'prometheus' } }, spec: { endpoints: [{ port: 'metrics', path: '/metrics' }] } });
    expect(configOf(rendered).webhook.excludedNamespaces).toEqual(['kube-system', 'kube-public', 'kube-node-lease', RELEASE_NAMESPACE, 'monitoring']);
    expect(r('defaults').find('ServiceMonitor')).toBeUndefined();
  });
});

describe('configuration rendered from values', () => {
  test('customSidecar: sidecar.* and gatewayURL reach the configuration', () => {
    const config = configOf(r('customSidecar'));
    expect(config.sidecar).toEqual({
      image: 'registry.example.com/asya/sidecar:1.4.2',
      imagePullPolicy: 'Always',
      native: true,
      logLevel: 'debug',
      defaultResources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '1', memory: '128Mi' } },
    });
    expect(config.gatewayURL).toBe('http://asya-gateway.asya.svc:8080');
  });

  test('defaults: seed 001 defaults (rabbitmq on, sqs off, sidecar asya-sidecar:latest and its resources)', () => {
    const config = configOf(r('defaults'));
    expect(config.transports.rabbitmq).toMatchObject({ enabled: true, type: 'rabbitmq', config: { host: 'rabbitmq.default.svc.cluster.local', port: 5672 } });
    expect(config.transports.sqs).toMatchObject({ enabled: false, type: 'sqs', config: { region: 'us-east-1' } });
    expect(config.sidecar.image).toBe('asya-sidecar:latest');
    expect(config.sidecar.defaultResources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '64Mi' } });
    expect(config.runtime.scriptPath).toBe('/etc/asya-runtime/asya_runtime.py');
  });

  test('rabbitmq: every RabbitMQ option and a disabled second transport are kept', () => {
    const config = configOf(r('rabbitmq'));
    expect(config.transports.rabbitmq?.config).toMatchObject(CASES.rabbitmq.transports.rabbitmq.config);
    expect(config.transports['rabbitmq-legacy']).toMatchObject({ enabled: false, type: 'rabbitmq' });
  });

  test('runtimeInline: the script is stored in a ConfigMap, mounted where the configuration points', () => {
    const rendered = r('runtimeInline');
    const cm = rendered.get('ConfigMap', `${FULLNAME}-runtime-script`) as K8sObject & { data: Record<string, string> };
    expect(cm.data['asya_runtime.py']).toBe('print("runtime")\n');
    const rc = deployment(rendered, RECONCILER);
    expect(rc.spec!.template.spec!.volumes!.find((v) => v.name === 'runtime')?.configMap?.name).toBe(`${FULLNAME}-runtime-script`);
    const mount = container(rc).volumeMounts!.find((m) => m.name === 'runtime')!;
    expect(configOf(rendered).runtime.scriptPath).toBe(`${mount.mountPath}/asya_runtime.py`);
    expect(rc.spec!.template.metadata?.annotations?.['checksum/runtime-script']).toMatch(/^[0-9a-f]{64}$/);
  });

  test('runtimeGithub: an init container fetches the tagged script into the directory the configuration points to', () => {
    const rendered = r('runtimeGithub');
    const pod = deployment(rendered, RECONCILER).spec!.template.spec!;
    const init = pod.initContainers![0]!;
    expect(init.env).toContainEqual({ name: 'RUNTIME_URL', value: 'https://raw.githubusercontent.com/deliveryhero/asya/v1.0.0/src/asya-runtime/asya_runtime.py' });
    expect(init.volumeMounts).toContainEqual({ name: 'runtime', mountPath: '/etc/asya-runtime' });
    expect(pod.volumes!.find((v) => v.name === 'runtime')?.emptyDir).toBeDefined();
    expect(configOf(rendered).runtime.scriptPath).toBe('/etc/asya-runtime/asya_runtime.py');
  });
});

describe('helm test hooks', () => {
  test('defaults: two test pods (webhook over TLS with the CA, dry run through the API server), their scripts from files/tests', () => {
    const rendered = r('defaults');
    const pods = rendered.all('Pod');
    expect(pods.map((p) => p.metadata.name).sort()).toEqual([`${FULLNAME}-test-admission`, `${FULLNAME}-test-webhook`]);
    for (const p of pods) expect(p.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
    const scripts = rendered.get('ConfigMap', `${FULLNAME}-test-scripts`) as K8sObject & { data: Record<string, string> };
    expect(Object.keys(scripts.data).sort()).toEqual(['admission-dry-run.mjs', 'webhook-answers.mjs']);
    const role = rendered.get('Role', `${FULLNAME}-test-admission`) as unknown as IRole;
    expect(role.metadata?.namespace).toBe('default');
    expect(role.rules).toEqual([{ apiGroups: ['asya.sh'], resources: ['asyncactors'], verbs: ['create'] }]);
  });
});

describe('template-time checks fail with a message naming the value', () => {
  test.each([
    [['replicaCount=2', 'leaderElection.enabled=false'], 'replicaCount > 1 needs leaderElection.enabled=true'],
    [['webhook.url=https://127.0.0.1:9443'], 'webhook.url needs webhook.caBundle'],
    [['webhook.caBundle=Zm9v'], 'webhook.caBundle is only used with webhook.url'],
    [['runtime.source=inline'], 'runtime.source=inline needs runtime.script'],
    [['runtime.source=github'], 'runtime.source=github needs runtime.github.version'],
    [['runtime.source=configMap'], 'runtime.source=configMap needs runtime.configMap.name'],
    [['tests.namespace=kube-system'], 'tests.namespace "kube-system" is excluded from the webhook'],
    [['transports.sqs.enabled=true', 'transports.sqs.config.region='], '/transports/sqs/config/region'],
    // Required keys of a transport's config come from its plugin's schema (values.schema.json, generated).
    [['transports.aws.type=sqs', 'transports.aws.config.endpoint=http://sqs:4566'], "at '/transports/aws/config': missing property 'region'"],
    [['transports.rmq2.type=rabbitmq', 'transports.rmq2.config.port=5672'], "at '/transports/rmq2/config': missing property 'host'"],
    [['transports.rmq3.type=rabbitmq'], "at '/transports/rmq3': missing property 'config'"],
  ])('%j', async (set, message) => {
    const res = await templateRaw(OPERATOR_CHART, { set });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(message);
  });
});
