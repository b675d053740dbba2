// `asya-webhook check` (issue 5, issue 6 item 8) against the real control plane: the built CLI, run as a user
// would, passes on a healthy installation (the chart's RBAC, ConfigMap and webhook configurations; the webhook
// and the reconciler as host processes with their own ServiceAccount tokens; a real RabbitMQ) and fails naming
// the part when the webhook is stopped, its caBundle is wrong, the reconciler is gone, the broker is down, the
// CRD is another version or deleted.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildCrd } from '../../src/api/crd.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { waitForPort } from '../support/ports.js';
import { RabbitNode } from '../support/rabbitmq.js';
import { applyObjects, cluster, kubectl, kubectlOk, serviceAccountKubeconfig, waitFor } from './support/cluster.js';
import { byKind, renderChart, REPO, type K8sObject } from './support/helm.js';
import { freePort, webhookProcess, type WebhookProcess } from './support/webhookProcess.js';

const RELEASE = 'asya-check';
const SYSTEM_NS = 'asya-check-system';
const ACTORS_NS = 'asya-check-actors';

let rabbit: RabbitNode;
let moto: { port: number; start(): Promise<void>; stop(): Promise<void> };
/** The SQS emulator's dummy credentials, for check and the reconciler (as IRSA would give them in a pod). */
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' };
let webhook: WebhookProcess;
let reconciler: { stop(): Promise<void>; start(): Promise<void>; logFile: string };
let webhookConfigs: K8sObject[];

interface CheckRun {
  code: number;
  stdout: string;
  /** Lines of the report by status symbol. */
  failed: string[];
  passed: string[];
}

function check(extra: string[] = [], env: NodeJS.ProcessEnv = { ...process.env, ...AWS_ENV }): Promise<CheckRun> {
  const args = [join(REPO, 'dist', 'src', 'cli', 'main.js'), 'check', '--kubeconfig', cluster.kubeconfig, '--namespace', SYSTEM_NS, '--release', RELEASE, '--dry-run-namespace', ACTORS_NS, ...extra];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 90_000, env }, (err, stdout) => {
      const lines = String(stdout).split('\n');
      resolve({
        code: err ? ((err as { code?: number }).code ?? 1) : 0,
        stdout: String(stdout),
        failed: lines.filter((l) => l.startsWith('✖')),
        passed: lines.filter((l) => l.startsWith('✔')),
      });
    });
  });
}

/** The reconciler on the host as the chart runs it: its arguments, the rendered configuration with host paths. */
function reconcilerProcess(opts: { chartArgs: string[]; configYaml: string; kubeconfig: string; healthPort: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'asya-e2e-check-reconciler-'));
  writeFileSync(join(dir, 'config.yaml'), opts.configYaml);
  const logFile = join(dir, 'reconciler.log');
  const args = opts.chartArgs.map((a) => {
    const [flag] = a.split('=');
    if (flag === '--config') return `--config=${join(dir, 'config.yaml')}`;
    if (flag === '--health-port' || flag === '--metrics-port') return `${flag}=${opts.healthPort}`;
    return a;
  });
  let child: ChildProcess | undefined;
  const ready = () => new Promise<boolean>((r) => http.get(`http://127.0.0.1:${opts.healthPort}/healthz`, (res) => r(res.statusCode === 200)).on('error', () => r(false)));
  return {
    logFile,
    async start() {
      const log = createWriteStream(logFile, { flags: 'a' });
      child = spawn(process.execPath, [join(REPO, 'dist', 'src', 'cli', 'main.js'), ...args, '--host=127.0.0.1', `--kubeconfig=${opts.kubeconfig}`, '--identity=check-e2e-reconciler'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...AWS_ENV },
      });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      const c = child;
      process.once('exit', () => c.kill('SIGKILL'));
      await waitFor('the reconciler to answer /healthz', async () => {
        if (c.exitCode !== null) throw new Error(`reconciler exited (${c.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
        return ready();
      });
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
    },
  };
}

/** moto's SQS emulator on a fixed port, so it can be stopped and started again at the configured endpoint. */
async function motoServer(port: number) {
  let child: ChildProcess | undefined;
  return {
    port,
    async start() {
      const c = spawn(process.env.MOTO_SERVER_BIN ?? 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      child = c;
      process.once('exit', () => c.kill('SIGKILL'));
      await waitForPort(port, 30_000, () => c.exitCode === null);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    },
  };
}

async function registerWebhooks(caPem: string): Promise<void> {
  const caBundle = Buffer.from(caPem).toString('base64');
  const objs = structuredClone(webhookConfigs);
  for (const o of objs) for (const w of o.webhooks) w.clientConfig = { url: w.clientConfig.url, caBundle };
  await applyObjects(objs);
}

beforeAll(async () => {
  rabbit = await RabbitNode.start();
  moto = await motoServer(await freePort());
  await moto.start();
  await applyObjects([buildCrd()]);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(REPO, '..', 'shared', 'crds')]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
  for (const ns of [SYSTEM_NS, ACTORS_NS]) await kubectl(['create', 'namespace', ns]);

  // The chart as installed (certificates generated by the chart, the broker on this machine): its
  // ServiceAccounts, RBAC and ConfigMap go into the cluster, where check reads them.
  const values = {
    'certManager.enabled': false,
    'transports.rabbitmq.config.host': '127.0.0.1',
    'transports.rabbitmq.config.port': rabbit.port,
    'transports.sqs.enabled': true,
    'transports.sqs.config.endpoint': `http://127.0.0.1:${moto.port}`,
  };
  const inCluster = await renderChart('asya-operator', RELEASE, SYSTEM_NS, values);
  const configMap = byKind(inCluster, 'ConfigMap').find((c) => c.data?.['config.yaml'])!;
  await applyObjects([
    ...['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].flatMap((k) => byKind(inCluster, k)),
    configMap,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: SYSTEM_NS }, stringData: { password: 'guest' } },
  ]);

  // The processes read the same file, with this machine's paths for what the pod mounts.
  const dir = mkdtempSync(join(tmpdir(), 'asya-e2e-check-'));
  writeFileSync(join(dir, 'password'), 'guest');
  writeFileSync(join(dir, 'asya_runtime.py'), '# runtime\n');
  const config = parse(configMap.data['config.yaml']);
  config.transports.rabbitmq.config.passwordFile = join(dir, 'password');
  config.runtime.scriptPath = join(dir, 'asya_runtime.py');
  const configYaml = stringify(config);
  const deployment = (component: string) => byKind(inCluster, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component)!.spec.template.spec;

  const wpod = deployment('webhook');
  webhook = await webhookProcess({ chartArgs: wpod.containers[0].args, configYaml, kubeconfig: await serviceAccountKubeconfig(SYSTEM_NS, wpod.serviceAccountName) });
  await webhook.start();
  const rpod = deployment('reconciler');
  reconciler = reconcilerProcess({
    chartArgs: rpod.containers.find((c: { name: string }) => c.name === 'reconciler').args,
    configYaml,
    kubeconfig: await serviceAccountKubeconfig(SYSTEM_NS, rpod.serviceAccountName),
    healthPort: await freePort(),
  });
  await reconciler.start();

  const outOfCluster = await renderChart('asya-operator', RELEASE, SYSTEM_NS, {
    ...values,
    'webhook.url': `https://127.0.0.1:${webhook.port}`,
    'webhook.caBundle': Buffer.from(webhook.certs.caCert).toString('base64'),
  });
  webhookConfigs = [...byKind(outOfCluster, 'ValidatingWebhookConfiguration'), ...byKind(outOfCluster, 'MutatingWebhookConfiguration')];
  await registerWebhooks(webhook.certs.caCert);
  // The reconciler holds its lease.
  await waitFor('the reconciler lease', async () => (await kubectl(['get', 'lease', '-n', SYSTEM_NS, '-o', 'name'])).stdout.includes('lease'));
}, 180_000);

afterAll(async () => {
  await webhook?.stop();
  await reconciler?.stop();
  await rabbit?.destroy();
  await moto?.stop();
  await kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration,clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${RELEASE}`, '--ignore-not-found']);
  await kubectl(['delete', 'namespace', SYSTEM_NS, ACTORS_NS, '--ignore-not-found', '--wait=false']);
  // The CRD deleted by the last test comes back for the files that follow.
  await applyObjects([buildCrd()]);
  await kubectl(['wait', '--for=condition=Established', 'crd/asyncactors.asya.sh', '--timeout=30s']);
}, 120_000);

describe('asya-webhook check on a real installation', () => {
  test('healthy: every check passes and it exits 0', async () => {
    const r = await check();
    expect(r.failed).toEqual([]);
    expect(r.code).toBe(0);
    for (const line of [
      '✔ Kubernetes API: reachable (v1.37.2)',
      '✔ CRD asyncactors.asya.sh: installed, versions v1alpha1 match this binary',
      '✔ KEDA CRD scaledobjects.keda.sh: installed',
      '✔ KEDA CRD triggerauthentications.keda.sh: installed',
      `✔ ValidatingWebhookConfiguration: ${RELEASE}-asya-operator: validate.asyncactors.asya.sh with a caBundle`,
      `✔ MutatingWebhookConfiguration: ${RELEASE}-asya-operator: mutate.asyncactors.asya.sh, inject.pods.asya.sh with a caBundle`,
      `✔ webhook certificate (https://127.0.0.1:${webhook.port}): caBundle verifies the serving certificate`,
      `✔ webhook answers the API server: a dry-run AsyncActor in ${ACTORS_NS} was refused by validate.asyncactors.asya.sh`,
      `✔ operator configuration: ConfigMap ${SYSTEM_NS}/${RELEASE}-asya-operator-config: transports rabbitmq, sqs`,
      `✔ reconciler leader Lease ${SYSTEM_NS}/${RELEASE}-asya-operator-reconciler: held by check-e2e-reconciler, renewed`,
      `✔ transport rabbitmq (rabbitmq at 127.0.0.1:${rabbit.port}): reachable: AMQP login as guest`,
      `✔ transport sqs (sqs at http://127.0.0.1:${moto.port}): reachable: SQS ListQueues`,
    ]) {
      expect(r.stdout).toContain(line);
    }
    // The certificate the webhook serves has a year left (generated for 365 days).
    expect(r.stdout).toMatch(new RegExp(`✔ webhook certificate expiry \\(https://127.0.0.1:${webhook.port}\\): 36\\d days left`));
    // cert-manager is not used by these webhook configurations (certManager.enabled=false): not required.
    expect(r.stdout).toContain('- cert-manager CRD certificates.cert-manager.io: not required');
    // The same as JSON, for scripts.
    const json = await check(['-o', 'json']);
    expect(json.code).toBe(0);
    const results = JSON.parse(json.stdout) as Array<{ name: string; status: string }>;
    expect(results.filter((x) => x.status === 'fail')).toEqual([]);
    expect(results.filter((x) => x.status === 'ok')).toHaveLength(r.passed.length);
  }, 120_000);

  test('webhook stopped: the certificate check and the dry run fail, naming the webhook', async () => {
    await webhook.stop();
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.failed).toEqual([
        expect.stringMatching(new RegExp(`^✖ webhook certificate \\(https://127.0.0.1:${webhook.port}\\): cannot connect: ECONNREFUSED`)),
        expect.stringMatching(/^✖ webhook answers the API server: the API server cannot call the webhook: .*failed calling webhook "(mutate|validate)\.asyncactors\.asya\.sh".*connection refused/),
      ]);
      expect(r.stdout).toContain(`    fix: start the webhook at https://127.0.0.1:${webhook.port}`);
    } finally {
      await webhook.start();
    }
  }, 120_000);

  test('a caBundle of another CA: fails on the certificate and the dry run', async () => {
    await registerWebhooks(generateCertificates({ hosts: ['127.0.0.1'] }).caCert);
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.failed).toEqual([
        expect.stringMatching(/^✖ webhook certificate .*: caBundle does not verify the serving certificate: (CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/),
        expect.stringMatching(/^✖ webhook answers the API server: the API server cannot call the webhook: .*(x509|certificate)/),
      ]);
    } finally {
      await registerWebhooks(webhook.certs.caCert);
    }
  }, 120_000);

  test('reconciler stopped: the lease has no holder', async () => {
    await reconciler.stop();
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.failed).toEqual([`✖ reconciler leader Lease ${SYSTEM_NS}/${RELEASE}-asya-operator-reconciler: no holder: the last leader released it and none took over`]);
    } finally {
      await reconciler.start();
    }
    await waitFor('the lease held again', async () => (await check()).code === 0, 60_000, 1000);
  }, 180_000);

  test('broker down: the transport fails, naming it', async () => {
    await rabbit.stop();
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.failed).toEqual([expect.stringMatching(new RegExp(`^✖ transport rabbitmq \\(rabbitmq at 127.0.0.1:${rabbit.port}\\): unreachable: AMQP login as guest failed: .*ECONNREFUSED`))]);
    } finally {
      await rabbit.restart();
    }
    expect((await check()).code).toBe(0);
  }, 180_000);

  test('SQS endpoint down: the sqs transport fails, naming it; without AWS credentials here, a TCP connect is what is checked', async () => {
    await moto.stop();
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.failed).toEqual([expect.stringMatching(new RegExp(`^✖ transport sqs \\(sqs at http://127.0.0.1:${moto.port}\\): unreachable: SQS ListQueues failed: .*ECONNREFUSED`))]);
    } finally {
      await moto.start();
    }
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent' };
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    delete env.AWS_PROFILE;
    const noCredentials = await check([], env);
    expect(noCredentials.stdout).toContain(`✔ transport sqs (sqs at http://127.0.0.1:${moto.port}): reachable: TCP connect (no AWS credentials here for ListQueues)`);
    expect(noCredentials.code).toBe(0);
  }, 120_000);

  test('the CRD of another version: fails naming where it differs', async () => {
    await kubectlOk(['patch', 'crd', 'asyncactors.asya.sh', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/versions/0/additionalPrinterColumns/0/description', value: 'older' }])]);
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.failed).toEqual([`✖ CRD asyncactors.asya.sh: version v1alpha1 differs from this binary's at additionalPrinterColumns[0].description`]);
    } finally {
      await applyObjects([buildCrd()]);
    }
  }, 120_000);

  test('CRD deleted: the CRD check fails, and the dry run says the API server does not serve AsyncActors', async () => {
    await kubectlOk(['delete', 'crd', 'asyncactors.asya.sh', '--wait=true']);
    const r = await waitFor('the API server to stop serving AsyncActors', async () => {
      const c = await check();
      return c.failed.some((l) => l.startsWith('✖ webhook answers')) ? c : undefined;
    }, 30_000, 1000);
    expect(r.code).toBe(1);
    expect(r.failed[0]).toBe('✖ CRD asyncactors.asya.sh: not installed');
    expect(r.stdout).toContain('    fix: apply the CRD of this release: asya-webhook crd | kubectl apply --server-side -f -');
    expect(r.failed[1]).toMatch(/^✖ webhook answers the API server: the API server does not serve AsyncActors/);
  }, 120_000);
});
