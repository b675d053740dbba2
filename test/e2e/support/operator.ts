// The operator as the chart installs it, run on the host: the chart is rendered with the caller's values, its
// ServiceAccounts and RBAC applied, and the webhook and the reconciler started with the chart's own arguments,
// rendered configuration file and each its own ServiceAccount token. The API server calls the webhook by URL
// (the chart's webhook.url mode). stop() removes what start created outside the release namespace.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { applyObjects, kubectl, releaseActors, serviceAccountKubeconfig } from './cluster.js';
import { byKind, renderChart, type K8sObject } from './helm.js';
import { reconcilerProcess, type ReconcilerProcess } from './reconcilerProcess.js';
import { registerWebhooks, webhookProcess, type WebhookProcess } from './webhookProcess.js';

export interface HostOperator {
  webhook: WebhookProcess;
  reconciler: ReconcilerProcess;
  /** The ServiceAccount of the reconciler and a kubeconfig with its token. */
  reconcilerServiceAccount: string;
  reconcilerKubeconfig: string;
  /** config.yaml as the chart renders it. */
  configYaml: string;
  /** The rendered configuration, changed by `edit`, with the broker password in a file on this machine. */
  hostConfig(edit?: (config: any) => void): string;
  /** (Re-)registers both webhook configurations, pointing at the host webhook. */
  registerWebhooks(): Promise<void>;
  /** Stops both processes and deletes the cluster-scoped objects (RBAC, webhook configurations). */
  stop(): Promise<void>;
}

export interface HostOperatorOptions {
  release: string;
  namespace: string;
  /** helm --set values (strings with --set-string). */
  values: Record<string, string | number | boolean>;
  /** Password of the RabbitMQ transport, written to the file the reconciler reads (transports.rabbitmq.config.passwordFile). */
  rabbitmqPassword?: string;
  /** Extra env of the reconciler (POD_NAME and POD_NAMESPACE are set as the chart's downward API does). */
  reconcilerEnv?: Record<string, string>;
  /** Changes to the configuration before the reconciler starts. */
  configure?: (config: any) => void;
}

export async function startOperatorOnHost(o: HostOperatorOptions): Promise<HostOperator> {
  await kubectl(['create', 'namespace', o.namespace]);
  const values = { 'certManager.enabled': false, ...o.values };
  const inCluster = await renderChart('asya-operator', o.release, o.namespace, values);
  const setup = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].flatMap((k) => byKind(inCluster, k));
  const clusterScoped: K8sObject[] = setup.filter((x) => x.kind.startsWith('Cluster') || x.kind.startsWith('ValidatingAdmissionPolicy'));
  await applyObjects(setup);
  const configYaml = byKind(inCluster, 'ConfigMap').find((c) => c.data?.['config.yaml'])!.data['config.yaml'] as string;
  const podSpec = (component: string) => byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component)!.spec.template.spec;

  const webhookPod = podSpec('webhook');
  const webhook = await webhookProcess({ chartArgs: webhookPod.containers[0].args, configYaml, kubeconfig: await serviceAccountKubeconfig(o.namespace, webhookPod.serviceAccountName) });
  await webhook.start();
  const outOfCluster = await renderChart('asya-operator', o.release, o.namespace, {
    ...values,
    'webhook.url': `https://127.0.0.1:${webhook.port}`,
    'webhook.caBundle': Buffer.from(webhook.certs.caCert).toString('base64'),
  });
  const webhookConfigs = [...byKind(outOfCluster, 'ValidatingWebhookConfiguration'), ...byKind(outOfCluster, 'MutatingWebhookConfiguration')];
  clusterScoped.push(...webhookConfigs);
  const register = (): Promise<void> => registerWebhooks(webhookConfigs, `https://127.0.0.1:${webhook.port}`, webhook.certs.caCert);
  await register();

  const reconcilerPod = podSpec('reconciler');
  const reconcilerServiceAccount = reconcilerPod.serviceAccountName as string;
  const reconcilerKubeconfig = await serviceAccountKubeconfig(o.namespace, reconcilerServiceAccount);
  const reconciler = await reconcilerProcess({
    chartArgs: reconcilerPod.containers[0].args,
    configYaml: '',
    kubeconfig: reconcilerKubeconfig,
    env: { POD_NAME: `${o.release}-reconciler-e2e`, POD_NAMESPACE: o.namespace, ...(o.reconcilerEnv ?? {}) },
  });
  const passwordFile = join(reconciler.dir, 'rabbitmq-password');
  writeFileSync(passwordFile, o.rabbitmqPassword ?? 'guest');
  const hostConfig = (edit?: (config: any) => void): string => {
    const cfg = parse(configYaml);
    if (cfg.transports?.rabbitmq?.config) cfg.transports.rabbitmq.config.passwordFile = passwordFile;
    o.configure?.(cfg);
    edit?.(cfg);
    return stringify(cfg);
  };
  await reconciler.start(hostConfig());

  return {
    webhook,
    reconciler,
    reconcilerServiceAccount,
    reconcilerKubeconfig,
    configYaml,
    hostConfig,
    registerWebhooks: register,
    async stop() {
      await reconciler.stop();
      // This reconciler watched every namespace: nothing finalizes what it left (support/cluster.ts).
      await releaseActors();
      await webhook.stop();
      for (const x of clusterScoped) await kubectl(['delete', x.kind.toLowerCase(), x.metadata.name, '--ignore-not-found']);
    },
  };
}
