// The operator installed as users install it: its image (written from the Dockerfile's runtime stage without
// Docker, support/operatorImage.ts) imported on the node under the chart's default name, `helm install
// charts/asya-operator` with its defaults plus test values, and everything after that on the node: the API
// server calling the webhook through its Service, the reconciler pods (two, one Lease) in the cluster, the message
// chain of flow.e2e.test.ts, helm test, helm upgrade, `asya-webhook check` in a pod, the actor chart, and helm
// uninstall. Pods reach the API server through the `kubernetes` Service and each other's Services by name
// (kube-proxy and the cluster DNS of support/node.ts).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import amqp from 'amqplib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MotoServer } from '../support/moto.js';
import { RabbitNode } from '../support/rabbitmq.js';
import { actor, endActor, envelope, pipeline, podsOf, publish, readyPodsOf, runtime, waitStatus } from './support/actors.js';
import { applyObjects, cluster, deleteNamespaces, getJson, kubectl, kubectlOk, node, releaseActors, sleep, waitFor } from './support/cluster.js';
import { startGateway, type Gateway } from './support/gateway.js';
import { helm, REPO } from './support/helm.js';
import { importImageArchive } from './support/images.js';
import { inClusterValues, runtimeScriptOf } from './support/inCluster.js';
import { buildOperatorImage, compressedSize, planFromDockerfile, type OperatorImage } from './support/operatorImage.js';
import { run } from './support/processes.js';

const RELEASE = 'asya-operator';
const SYSTEM_NS = 'asya-system';
const NS = 'e2e-incluster';
const VHOST = 'asya-incluster';
/** The same pipeline over SQS (moto), with its own end actors (queue names are per transport). */
const NS_SQS = 'e2e-incluster-sqs';
const SIDECAR_V2 = 'asya-sidecar:e2e-v2';
const WEBHOOK = `${RELEASE}-webhook`;
const RECONCILER = `${RELEASE}-reconciler`;

let rabbit: RabbitNode;
let moto: MotoServer;
let gateway: Gateway;
let amqpConn: amqp.ChannelModel;
let image: OperatorImage;

const helmKube = (args: string[], timeoutMs = 240_000) => helm([...args, '--kubeconfig', cluster.kubeconfig], { timeoutMs });
const runtimeScript = () => runtimeScriptOf(node.upstreamDir);

const values = (sidecarImage: string): string[] =>
  inClusterValues({ nodeIp: node.ip, rabbitPort: rabbit.port, vhost: VHOST, sidecarImage, upstreamDir: node.upstreamDir, gatewayUrl: gateway.url, sqsEndpoint: moto.endpoint });

const componentPods = async (component: string): Promise<any[]> =>
  (await getJson<{ items: any[] }>(['pods', '-n', SYSTEM_NS, '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=${component}`])).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
const readyComponentPods = async (component: string): Promise<any[]> =>
  (await componentPods(component)).filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));

/** Runs a pod to completion and returns its phase and log. */
async function runPod(name: string, spec: Record<string, unknown>, namespace = SYSTEM_NS, timeoutMs = 90_000): Promise<{ phase: string; log: string; exitCode?: number }> {
  await kubectl(['delete', 'pod', '-n', namespace, name, '--ignore-not-found', '--wait=true']);
  await applyObjects([{ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { restartPolicy: 'Never', ...spec } }]);
  const pod = await waitFor(`pod ${name} to finish`, async () => {
    const p = await getJson(['pod', '-n', namespace, name]);
    return ['Succeeded', 'Failed'].includes(p.status?.phase) ? p : undefined;
  }, timeoutMs, 500);
  const log = (await kubectl(['logs', '-n', namespace, name])).stdout;
  return { phase: pod.status.phase, log, exitCode: pod.status.containerStatuses?.[0]?.state?.terminated?.exitCode };
}

const imagePodSpec = (container: Record<string, unknown>) => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'main',
      image: image.ref,
      imagePullPolicy: 'IfNotPresent',
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      ...container,
    },
  ],
});

/** Objects of the release left in the cluster (any kind that the chart renders), as kind/namespace/name. */
async function releaseObjects(): Promise<string[]> {
  const kinds = 'deployments,services,configmaps,secrets,serviceaccounts,roles,rolebindings,poddisruptionbudgets,clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations';
  const r = await getJson<{ items: any[] }>([kinds, '-A', '-l', `app.kubernetes.io/instance=${RELEASE}`]);
  return r.items.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
}

beforeAll(async () => {
  [rabbit, moto, gateway] = await Promise.all([RabbitNode.start({ alsoListenOn: node.ip, vhost: VHOST }), MotoServer.start({ host: node.ip }), startGateway(node.ip)]);
  amqpConn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${rabbit.port}/${VHOST}`);
  amqpConn.on('error', () => undefined);
  // The image, as the chart names it by default (asya-operator:<appVersion>), and a second sidecar tag for the upgrade.
  image = buildOperatorImage();
  await importImageArchive(node.containerdSocket, image.archive);
  const ctr = (args: string[]) => run('ctr', ['--address', node.containerdSocket, '--namespace', 'k8s.io', ...args]);
  await ctr(['images', 'rm', `docker.io/library/${SIDECAR_V2}`]);
  const t = await ctr(['images', 'tag', `docker.io/library/${node.images.sidecar}`, `docker.io/library/${SIDECAR_V2}`]);
  if (t.code !== 0) throw new Error(`ctr images tag: ${t.stderr}`);
  for (const ns of [SYSTEM_NS, NS, NS_SQS]) {
    await kubectl(['create', 'namespace', ns]);
    await applyObjects([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: ns }, stringData: { username: 'guest', password: 'guest' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-credentials', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    ]);
  }
}, 600_000);

afterAll(async () => {
  // Whatever a failed test left: the release, then the actors (their finalizer is the reconciler's, gone now).
  await helmKube(['uninstall', RELEASE, '-n', SYSTEM_NS, '--wait', '--timeout', '60s']);
  await helmKube(['uninstall', 'echo-chart', '-n', NS]);
  await releaseActors();
  await deleteNamespaces([NS, NS_SQS, SYSTEM_NS]);
  await amqpConn?.close().catch(() => undefined);
  await Promise.all([rabbit?.destroy(), moto?.stop(), gateway?.stop()]);
}, 180_000);

describe('the operator image, written from the Dockerfile', () => {
  test("the build repeats the Dockerfile's runtime stage, and refuses a Dockerfile it cannot repeat", () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const plan = planFromDockerfile(dockerfile);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(plan.nodeVersion).toBe(pkg.devDependencies.node);
    expect(plan.depsCommand).toEqual(expect.arrayContaining(['npm', 'ci', '--omit=dev', '--ignore-scripts']));
    expect(plan.config).toMatchObject({ User: '65532:65532', WorkingDir: '/app', Entrypoint: ['node', '/app/dist/src/cli/main.js'], Cmd: ['--help'] });
    expect(plan.config.Env).toContain('NODE_ENV=production');
    expect(plan.copies.map((c) => c.dest).sort()).toEqual(['/app/dist/src', '/app/node_modules', '/app/package.json']);
    expect(image.plan).toEqual(plan);
    // What the build cannot repeat is an error, not a silently different image.
    const withCurl = dockerfile.replace(/^USER /m, 'RUN apt-get update && apt-get install -y curl\nUSER ');
    expect(() => planFromDockerfile(withCurl)).toThrow(/runtime stage has RUN apt-get/);
    const otherCopy = dockerfile.replace('COPY package.json ./', 'COPY README.md ./\nCOPY config ./config');
    expect(() => planFromDockerfile(otherCopy)).toThrow(/COPY config \.\/config/);
    process.stderr.write(`operator image ${image.ref}: ${(image.layerBytes / 1e6).toFixed(1)} MB of layers (${(compressedSize(image) / 1e6).toFixed(1)} MB gzip)\n`);
  });

  test('a pod of the image: Node of the Dockerfile, user 65532, the compiled CLI, production dependencies only', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const deps = Object.keys(pkg.dependencies);
    const devDeps = Object.keys(pkg.devDependencies).filter((d) => d !== 'node' && !d.startsWith('@types/'));
    const probe = [
      "const fs = require('fs');",
      'const has = (m) => { try { require.resolve(m, { paths: ["/app"] }); return true; } catch { return false; } };',
      'console.log(JSON.stringify({ node: process.version, uid: process.getuid(), cwd: process.cwd(), env: process.env.NODE_ENV,',
      "  cli: fs.existsSync('/app/dist/src/cli/main.js'), pkg: JSON.parse(fs.readFileSync('/app/package.json', 'utf8')).name,",
      `  deps: ${JSON.stringify(deps)}.filter((d) => !has(d)), devDeps: ${JSON.stringify(devDeps)}.filter(has),`,
      "  writable: (() => { try { fs.writeFileSync('/app/x', 'x'); return true; } catch { return false; } })() }));",
    ].join('\n');
    const r = await runPod('image-probe', imagePodSpec({ command: ['node', '-e', probe] }));
    expect(r.phase).toBe('Succeeded');
    expect(JSON.parse(r.log.trim())).toEqual({
      node: `v${image.plan.nodeVersion}`,
      // USER 65532:65532; the group is the pod's runAsGroup (the chart sets 65532): containerd 1.6 takes only the
      // user from the image config when the kubelet checks runAsNonRoot.
      uid: 65532,
      cwd: '/app',
      env: 'production',
      cli: true,
      pkg: 'asya-webhook',
      // Every dependency of package.json resolves, no devDependency does (typescript, jest, ts-jest, ...).
      deps: [],
      devDeps: [],
      writable: false,
    });
    // ENTRYPOINT + CMD as the Dockerfile has them: `asya-webhook --help`.
    const help = await runPod('image-help', imagePodSpec({}));
    expect(help.phase).toBe('Succeeded');
    expect(help.log).toMatch(/serve/);
    expect(help.log).toMatch(/controller/);
  }, 180_000);
});

describe('helm install charts/asya-operator', () => {
  test('the webhook and reconciler pods become Ready (probes, read-only root, non-root, their own ServiceAccounts), and an actor pod runs', async () => {
    const t0 = Date.now();
    const r = await helmKube(['install', RELEASE, 'charts/asya-operator', '-n', SYSTEM_NS, ...values(node.images.sidecar), '--wait', '--timeout', '180s']);
    if (r.code !== 0) {
      const pods = await kubectl(['get', 'pods,events', '-n', SYSTEM_NS, '-o', 'wide']);
      throw new Error(`helm install failed: ${r.stderr}\n${pods.stdout}`);
    }
    const installed = Date.now();
    expect(await readyComponentPods('webhook')).toHaveLength(2);
    expect(await readyComponentPods('reconciler')).toHaveLength(2);
    for (const component of ['webhook', 'reconciler']) {
      for (const pod of await componentPods(component)) {
        const c = pod.spec.containers[0];
        expect(c.image).toBe('asya-operator:0.1.0');
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
        expect(c.readinessProbe && c.livenessProbe && c.startupProbe).toBeTruthy();
        expect(pod.spec.serviceAccountName).toBe(`${RELEASE}-${component}`);
        expect(pod.spec.nodeName).toBe(node.name);
        // Really as the image's user, and the root file system refuses writes.
        const who = await kubectl(['exec', '-n', SYSTEM_NS, pod.metadata.name, '--', 'node', '-e', "try { require('fs').writeFileSync('/probe', 'x'); console.log('writable') } catch (e) { console.log(process.getuid(), e.code) }"]);
        expect(who.stdout.trim()).toBe('65532 EROFS');
      }
    }
    // The API server calls the webhook through its Service (no URL), at the Service's endpoints.
    const vwc = await getJson(['validatingwebhookconfigurations', `${RELEASE}-webhook`]).catch(async () => (await getJson<{ items: any[] }>(['validatingwebhookconfigurations', '-l', `app.kubernetes.io/instance=${RELEASE}`])).items[0]);
    for (const w of vwc.webhooks) {
      expect(w.clientConfig.url).toBeUndefined();
      expect(w.clientConfig.service).toMatchObject({ name: WEBHOOK, namespace: SYSTEM_NS });
    }
    const refused = await kubectl(['create', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(actor(NS, 'no-runtime', { workload: { template: { spec: { containers: [{ name: 'other', image: 'x' }] } } } })),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/validate\.asyncactors\.asya\.sh.*asya-runtime/s);

    // A first actor, as a user applies it after the install: its pod Running, injected by the in-cluster webhook.
    await applyObjects([actor(NS, 'first', { workload: { replicas: 1, template: { spec: { containers: [runtime('echo.process')] } } } })], { serverSide: false });
    await waitFor('the pod of actor first Running and Ready', async () => (await readyPodsOf(NS, 'first')).length === 1, 120_000, 250);
    const running = Date.now();
    process.stderr.write(
      `in-cluster operator: helm install --wait ${((installed - t0) / 1000).toFixed(1)} s; helm install -> first actor pod Running ${((running - t0) / 1000).toFixed(1)} s\n`,
    );
    const [pod] = await podsOf(NS, 'first');
    expect(pod.spec.containers.map((c: any) => c.name).sort()).toEqual(['asya-runtime', 'asya-sidecar']);
    await waitStatus(NS, 'first', (x) => x.status === 'Running' && x.running === 1, 'Running');
  }, 400_000);
});

describe('with the in-cluster operator, the message chain of flow.e2e.test.ts works unchanged', () => {
  beforeAll(async () => {
    await applyObjects(
      [
        endActor(NS, 'happy', 'rabbitmq'),
        endActor(NS, 'error', 'rabbitmq'),
        ...pipeline(NS, 'rabbitmq'),
        endActor(NS_SQS, 'happy', 'sqs'),
        endActor(NS_SQS, 'error', 'sqs'),
        ...pipeline(NS_SQS, 'sqs', 's'),
      ],
      { serverSide: false },
    );
    for (const ns of [NS, NS_SQS]) {
      for (const end of ['happy-end', 'error-end']) await waitStatus(ns, end, (r) => r.status === 'Running' && r.running === 1, 'Running with 1 pod');
    }
    await waitStatus(NS, 'a', (r) => r.status === 'Napping', 'Napping');
    await waitStatus(NS, 'boom', (r) => r.status === 'Napping', 'Napping');
    await waitStatus(NS_SQS, 'sa', (r) => r.status === 'Napping', 'Napping');
    await waitStatus(NS_SQS, 'sboom', (r) => r.status === 'Napping', 'Napping');
  }, 240_000);

  test('a -> b -> happy-end, and boom -> error-end, from zero', async () => {
    await publish(amqpConn, envelope('in-1', ['a', 'b'], { n: 1 }), envelope('in-boom', ['boom', 'b'], { n: 2 }));
    expect(await gateway.final('in-1', 150_000)).toMatchObject({ id: 'in-1', status: 'succeeded', result: { n: 1, seen: ['a', 'b'] } });
    const boom = await gateway.final('in-boom', 150_000);
    expect(boom).toMatchObject({ status: 'failed', current_actor_name: 'boom' });
    expect(JSON.stringify(boom)).toContain('boom: cannot handle 2');
    // The runtime script the reconciler pod wrote, from the chart's inline runtime.
    const cm = await getJson(['configmap', '-n', NS, 'asya-runtime']);
    expect(cm.data['asya_runtime.py']).toBe(readFileSync(runtimeScript(), 'utf8'));
  }, 300_000);

  test('the same over SQS: sa -> sb -> happy-end, sboom -> error-end', async () => {
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const send = async (env: ReturnType<typeof envelope>) => {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `asya-${env.route.actors[0]}` }));
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(env) }));
      };
      await send(envelope('in-sqs-1', ['sa', 'sb'], { n: 4 }));
      await send(envelope('in-sqs-boom', ['sboom'], { n: 5 }));
      // The stages append their own names, whatever the actor is called.
      expect(await gateway.final('in-sqs-1', 180_000)).toMatchObject({ status: 'succeeded', result: { n: 4, seen: ['a', 'b'] } });
      const boom = await gateway.final('in-sqs-boom', 180_000);
      expect(boom).toMatchObject({ status: 'failed', current_actor_name: 'sboom' });
      expect(JSON.stringify(boom)).toContain('boom: cannot handle 5');
    } finally {
      sqs.destroy();
    }
  }, 300_000);
});

describe('two reconciler replicas', () => {
  test('share the Lease: the survivor takes over when the leader pod is deleted, and reconciles', async () => {
    const leaseName = RECONCILER;
    const holder = async (): Promise<string | undefined> => (await getJson(['lease', '-n', SYSTEM_NS, leaseName])).spec?.holderIdentity;
    const pods = (await readyComponentPods('reconciler')).map((p) => p.metadata.name as string);
    expect(pods).toHaveLength(2);
    const leader = await waitFor('a Lease holder', async () => {
      const h = await holder();
      return h && pods.includes(h) ? h : undefined;
    }, 30_000, 500);
    const survivor = pods.find((p) => p !== leader)!;
    // The node cordoned meanwhile: the Deployment's replacement pod cannot start and race the survivor for the
    // Lease (on one node it often would), so what is shown is the survivor taking over.
    await kubectlOk(['cordon', node.name]);
    try {
      await kubectlOk(['delete', 'pod', '-n', SYSTEM_NS, leader, '--wait=false']);
      const t0 = Date.now();
      await waitFor(`${survivor} to hold the Lease`, async () => (await holder()) === survivor, 60_000, 250);
      process.stderr.write(`reconciler leader pod deleted -> survivor holds the Lease in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } finally {
      await kubectlOk(['uncordon', node.name]);
    }
    // The new leader reconciles: a new actor gets its workload and status.
    await applyObjects([actor(NS, 'after-failover', { scaling: { enabled: true, pollingInterval: 2, cooldownPeriod: 5 }, workload: { template: { spec: { containers: [runtime('echo.process')] } } } })], { serverSide: false });
    await waitStatus(NS, 'after-failover', (r) => r.status === 'Napping', 'Napping (reconciled by the survivor)', 60_000);
    await waitFor('two reconciler pods Ready again', async () => (await readyComponentPods('reconciler')).length === 2, 120_000, 500);
  }, 240_000);
});

describe("the webhook's PodDisruptionBudget", () => {
  test('one webhook pod may be evicted, not the second while the first is replaced', async () => {
    await waitFor('the PDB to allow one disruption', async () => (await getJson(['pdb', '-n', SYSTEM_NS, WEBHOOK])).status?.disruptionsAllowed === 1, 60_000, 500);
    const [p1, p2] = (await readyComponentPods('webhook')).map((p) => p.metadata.name as string);
    const evict = (pod: string) =>
      kubectl(['create', '--raw', `/api/v1/namespaces/${SYSTEM_NS}/pods/${pod}/eviction`, '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: SYSTEM_NS } }),
      });
    const first = await evict(p1!);
    expect(first.code).toBe(0);
    const second = await evict(p2!);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/disruption budget|TooManyRequests|429/i);
    // The replacement comes up; both Ready again, and the second may then be evicted.
    await waitFor('two webhook pods Ready again', async () => (await readyComponentPods('webhook')).length === 2, 120_000, 500);
    await waitFor('the PDB to allow one disruption again', async () => (await getJson(['pdb', '-n', SYSTEM_NS, WEBHOOK])).status?.disruptionsAllowed === 1, 60_000, 500);
  }, 240_000);
});

describe('helm test and asya-webhook check', () => {
  test("helm test runs the chart's test pods on the node, and they pass", async () => {
    // No --logs: the chart deletes its test pods once they succeed (hook-succeeded), so there is nothing to read.
    const r = await helmKube(['test', RELEASE, '-n', SYSTEM_NS, '--timeout', '120s'], 180_000);
    expect(`exit ${r.code}\n${r.stdout}\n${r.stderr}`).toMatch(/^exit 0\n/);
    // Both test pods ran on the node and succeeded: the API server called the webhook (dry run refused by it),
    // and the webhook answered over TLS at https://asya-operator-webhook.asya-system.svc:443 (cluster DNS,
    // kube-proxy from the test pod to a webhook pod).
    expect(r.stdout).toMatch(/TEST SUITE:\s+asya-operator-test-admission[\s\S]*?Phase:\s+Succeeded/);
    expect(r.stdout).toMatch(/TEST SUITE:\s+asya-operator-test-webhook[\s\S]*?Phase:\s+Succeeded/);
  }, 200_000);

  /** The reconciler's pod template (its ServiceAccount, image, volumes: the broker password) running `check`. */
  const checkPod = async (name: string) => {
    const tpl = (await getJson(['deployment', '-n', SYSTEM_NS, RECONCILER])).spec.template.spec;
    const c = tpl.containers[0];
    return runPod(name, {
      serviceAccountName: tpl.serviceAccountName,
      securityContext: tpl.securityContext,
      volumes: tpl.volumes,
      containers: [
        {
          name: 'check',
          image: c.image,
          imagePullPolicy: c.imagePullPolicy,
          args: ['check', '-n', SYSTEM_NS, '--release', RELEASE, '-o', 'json'],
          env: c.env,
          volumeMounts: c.volumeMounts,
          securityContext: c.securityContext,
        },
      ],
    });
  };
  type Result = { name: string; status: string; detail: string };

  test('asya-webhook check in a pod with the reconciler ServiceAccount passes on the healthy install', async () => {
    const r = await checkPod('check-healthy');
    const results = JSON.parse(r.log) as Result[];
    const bad = results.filter((x) => x.status === 'fail');
    expect(bad).toEqual([]);
    expect(r.phase).toBe('Succeeded');
    expect(results.map((x) => x.name)).toEqual(expect.arrayContaining([expect.stringMatching(/webhook certificate/), 'webhook answers the API server']));
  }, 120_000);

  test('with the webhook Deployment scaled to 0 it fails and names the webhook', async () => {
    await kubectlOk(['scale', 'deployment', '-n', SYSTEM_NS, WEBHOOK, '--replicas=0']);
    try {
      await waitFor('no webhook pods', async () => (await componentPods('webhook')).length === 0, 60_000, 500);
      const r = await checkPod('check-broken');
      expect(r.phase).toBe('Failed');
      const failed = (JSON.parse(r.log) as Result[]).filter((x) => x.status === 'fail');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) expect(`${f.name} ${f.detail}`).toMatch(/webhook/i);
      process.stderr.write(`check with the webhook at 0 replicas: ${failed.map((f) => `${f.name}: ${f.detail}`).join(' | ')}\n`);
    } finally {
      await kubectlOk(['scale', 'deployment', '-n', SYSTEM_NS, WEBHOOK, '--replicas=2']);
      await waitFor('two webhook pods Ready', async () => (await readyComponentPods('webhook')).length === 2, 120_000, 500);
    }
  }, 240_000);
});

describe('helm upgrade with a new sidecar image', () => {
  test('rolls the operator without refusing an actor pod created meanwhile; pods created after it carry the new sidecar', async () => {
    const before = (await readyComponentPods('webhook')).map((p) => p.metadata.name as string);
    // A user keeps creating actor pods during the upgrade (server-side dry runs: admitted and mutated like real
    // ones, nothing stored): every single one must be admitted, with one of the two sidecar images.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'during-upgrade-', namespace: NS, labels: { 'asya.sh/actor': 'first' } },
      spec: { containers: [runtime('echo.process')] },
    };
    let upgrading = true;
    const outcomes: Array<{ ok: boolean; sidecar?: string; error?: string }> = [];
    const creator = (async () => {
      while (upgrading) {
        const r = await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(pod) });
        if (r.code !== 0) outcomes.push({ ok: false, error: r.stderr });
        else outcomes.push({ ok: true, sidecar: (JSON.parse(r.stdout).spec.containers as any[]).find((c) => c.name === 'asya-sidecar')?.image });
        await sleep(100);
      }
    })();
    const r = await helmKube(['upgrade', RELEASE, 'charts/asya-operator', '-n', SYSTEM_NS, ...values(SIDECAR_V2), '--wait', '--timeout', '180s']);
    // A little after the rollout too: the old pods' endpoints are gone, the new ones serve.
    await waitFor('no old webhook pod left, not even terminating', async () => {
      const all = (await getJson<{ items: any[] }>(['pods', '-n', SYSTEM_NS, '-l', `app.kubernetes.io/component=webhook`])).items;
      return !all.some((p) => before.includes(p.metadata.name));
    }, 90_000, 500);
    upgrading = false;
    await creator;
    expect(r.code).toBe(0);
    const refused = outcomes.filter((o) => !o.ok);
    process.stderr.write(`helm upgrade: ${outcomes.length} actor pods created during the rollout, ${refused.length} refused\n`);
    expect(refused).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(10);
    expect(new Set(outcomes.map((o) => o.sidecar))).toEqual(new Set([node.images.sidecar, SIDECAR_V2]));
    // After the upgrade: new webhook pods, and a new actor pod (deleted and recreated) carries the new sidecar.
    const after = (await readyComponentPods('webhook')).map((p) => p.metadata.name as string);
    expect(after.filter((p) => before.includes(p))).toEqual([]);
    const [old] = await podsOf(NS, 'first');
    await kubectlOk(['delete', 'pod', '-n', NS, old.metadata.name, '--wait=false']);
    const fresh = await waitFor('a new pod of actor first, Ready', async () => (await readyPodsOf(NS, 'first')).find((p) => p.metadata.name !== old.metadata.name), 120_000, 500);
    expect(fresh.spec.containers.find((c: any) => c.name === 'asya-sidecar').image).toBe(SIDECAR_V2);
    // And the chain still works through the upgraded operator.
    await publish(amqpConn, envelope('in-2', ['a', 'b'], { n: 3 }));
    expect(await gateway.final('in-2', 150_000)).toMatchObject({ status: 'succeeded', result: { n: 3, seen: ['a', 'b'] } });
  }, 400_000);
});

describe('charts/asya-actor', () => {
  test('install, helm test (its test pod runs), uninstall', async () => {
    const args = [
      'echo-chart', 'charts/asya-actor', '-n', NS,
      '--set-string', 'name=echo-chart',
      '--set', 'scaling.pollingInterval=2', '--set', 'scaling.cooldownPeriod=5',
      '--set-string', `workload.template.spec.containers[0].name=asya-runtime`,
      '--set-string', `workload.template.spec.containers[0].image=${node.images.python}`,
      '--set-string', 'workload.template.spec.containers[0].env[0].name=ASYA_HANDLER',
      '--set-string', 'workload.template.spec.containers[0].env[0].value=echo.process',
      '--set-string', `tests.image=${image.ref}`,
    ];
    const install = await helmKube(['install', ...args, '--wait', '--timeout', '60s']);
    expect(`${install.code} ${install.stderr}`).toBe('0 ');
    await waitStatus(NS, 'echo-chart', (r) => r.status === 'Napping', 'Napping');
    const t = await helmKube(['test', 'echo-chart', '-n', NS, '--timeout', '90s'], 120_000);
    expect(`exit ${t.code}\n${t.stdout}\n${t.stderr}`).toMatch(/^exit 0\n/);
    expect(t.stdout).toMatch(/Phase:\s+Succeeded/);
    const un = await helmKube(['uninstall', 'echo-chart', '-n', NS, '--wait', '--timeout', '60s']);
    expect(un.code).toBe(0);
    await waitFor('the actor echo-chart and its Deployment gone', async () => (await kubectl(['get', 'asyncactor,deployment', '-n', NS, 'echo-chart'])).stdout.trim() === '', 90_000, 500);
  }, 300_000);
});

describe('helm uninstall', () => {
  test("leaves the actors' workloads running, and nothing of the release but the CRD", async () => {
    const runningBefore = (await readyPodsOf(NS, 'happy-end')).map((p) => p.metadata.name);
    expect(runningBefore).toHaveLength(1);
    const r = await helmKube(['uninstall', RELEASE, '-n', SYSTEM_NS, '--wait', '--timeout', '90s']);
    expect(r.code).toBe(0);
    expect(await releaseObjects()).toEqual([]);
    // The Deployments are gone; their pods go after their grace period.
    await waitFor('the operator pods gone', async () => (await kubectl(['get', 'pods', '-n', SYSTEM_NS, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name'])).stdout.trim() === '', 90_000, 500);
    // The CRD stays (helm never deletes what it installed from crds/), and so do the actors and their workloads.
    expect((await kubectl(['get', 'crd', 'asyncactors.asya.sh'])).code).toBe(0);
    const d = await getJson(['deployment', '-n', NS, 'happy-end']);
    expect(d.status.readyReplicas).toBe(1);
    expect((await readyPodsOf(NS, 'happy-end')).map((p) => p.metadata.name)).toEqual(runningBefore);
    // Without the webhook, nothing refuses or mutates actor pods any more: no webhook configuration is left.
    const hooks = await kubectl(['get', 'validatingwebhookconfigurations,mutatingwebhookconfigurations', '-o', 'name']);
    expect(hooks.stdout).not.toMatch(new RegExp(RELEASE));
  }, 200_000);
});
