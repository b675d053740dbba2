// `npm run bench:e2e -- incluster` (root: it starts the e2e node): the figures of the operator installed as
// users install it, on the e2e control plane and node (test/e2e/support/), BENCH_ROUNDS rounds (default 3),
// medians:
//   - the operator image (support/operatorImage.ts): its layers as the node stores them, and gzip-compressed;
//   - `helm install charts/asya-operator --wait`, and from the start of that install to the first actor pod
//     Running and Ready (the actor applied as soon as helm returns, as a user would);
//   - from the first of 20 messages (held by the handler, queueLength 5) to 4 Ready replicas, through KEDA's
//     operator, its metrics adapter and the HPA controller.
// Each round installs a fresh release in its own namespaces and uninstalls it afterwards.
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startControlPlane } from '../../test/e2e/support/controlPlane.js';
import { importImageArchive } from '../../test/e2e/support/images.js';
import { nodeEnv, startNode, type KubeNode } from '../../test/e2e/support/node.js';
import { buildOperatorImage, compressedSize } from '../../test/e2e/support/operatorImage.js';
import { inClusterValues } from '../../test/e2e/support/inCluster.js';
import { RabbitNode } from '../../test/support/rabbitmq.js';
import { e2eBinDir, fmt, median, REPO } from './support/measure.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VHOST = 'asya-bench';

export async function run(): Promise<void> {
  const binDir = e2eBinDir();
  const cp = await startControlPlane({ binDir, withKeda: true });
  let node: KubeNode | undefined;
  let rabbit: RabbitNode | undefined;
  let conn: amqp.ChannelModel | undefined;
  const released = new Set<string>();
  const releaseServer = http.createServer((req, res) => {
    const key = /^\/release\/(.+)$/.exec(req.url ?? '')?.[1];
    res.writeHead(key && released.has(decodeURIComponent(key)) ? 200 : 404).end();
  });
  try {
    node = await startNode(cp, { logDir: cp.logDir });
    // The e2e helpers (support/cluster.ts, support/actors.ts) read the cluster from these, as under Jest.
    Object.assign(process.env, nodeEnv(node), { ASYA_E2E_KUBECONFIG: cp.kubeconfig, ASYA_E2E_BIN_DIR: cp.binDir, ASYA_E2E_SERVER: cp.server, ASYA_E2E_CA_FILE: cp.caFile, ASYA_E2E_DIR: cp.dir });
    const { actor, envelope, publish, readyPodsOf, runtime, waitStatus } = await import('../../test/e2e/support/actors.js');
    const { kubectl, kubectlOk, applyObjects, waitFor } = await import('../../test/e2e/support/cluster.js');
    const helm = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(`${binDir}/helm`, [...args, '--kubeconfig', cp.kubeconfig], { cwd: REPO, timeout: 300_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
          resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }),
        ),
      );

    const t0 = Date.now();
    const image = buildOperatorImage();
    const built = Date.now();
    await importImageArchive(node.containerdSocket, image.archive);
    const imported = Date.now();
    const gz = compressedSize(image);

    rabbit = await RabbitNode.start({ alsoListenOn: node.ip, vhost: VHOST });
    conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${rabbit.port}/${VHOST}`);
    conn.on('error', () => undefined);
    await new Promise<void>((r) => releaseServer.listen(0, node!.ip, () => r()));
    const releaseBase = `http://${node.ip}:${(releaseServer.address() as AddressInfo).port}`;

    const installs: number[] = [];
    const firstPods: number[] = [];
    const toFour: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const release = `asya-r${round}`;
      const sys = `asya-system-r${round}`;
      const ns = `bench-incluster-r${round}`;
      for (const n of [sys, ns]) {
        await kubectlOk(['create', 'namespace', n]);
        await applyObjects([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rabbitmq-secret', namespace: n }, stringData: { username: 'guest', password: 'guest' } }]);
      }
      const values = inClusterValues({ nodeIp: node.ip, rabbitPort: rabbit.port, vhost: VHOST, sidecarImage: node.images.sidecar, upstreamDir: node.upstreamDir });
      const start = Date.now();
      const r = await helm(['install', release, 'charts/asya-operator', '-n', sys, ...values, '--wait', '--timeout', '180s']);
      if (r.code !== 0) throw new Error(`helm install ${release}: ${r.out}`);
      const installed = Date.now();
      await applyObjects([actor(ns, 'first', { workload: { replicas: 1, template: { spec: { containers: [runtime('echo.process')] } } } })], { serverSide: false });
      await waitFor('the first actor pod Ready', async () => (await readyPodsOf(ns, 'first')).length === 1, 180_000, 100);
      const firstPod = Date.now();
      installs.push((installed - start) / 1000);
      firstPods.push((firstPod - start) / 1000);

      const burst = actor(ns, 'burst', {
        timeout: { processing: 300, gracefulShutdown: 30 },
        scaling: { enabled: true, minReplicas: 0, maxReplicas: 10, queueLength: 5, pollingInterval: 1, cooldownPeriod: 5 },
        workload: { template: { spec: { containers: [runtime('scaling.hold', { resources: { requests: { cpu: '10m', memory: '32Mi' } } })] } } },
      });
      await applyObjects([burst], { serverSide: false });
      await waitStatus(ns, 'burst', (x) => x.status === 'Napping', 'Napping');
      const key = `r${round}`;
      const sent = Date.now();
      await publish(conn, ...Array.from({ length: 20 }, (_, i) => envelope(`${key}-${i}`, ['burst'], { n: i, release: `${releaseBase}/release/${key}` })));
      await waitFor('4 Ready replicas', async () => (await readyPodsOf(ns, 'burst')).length >= 4, 180_000, 100);
      toFour.push((Date.now() - sent) / 1000);
      released.add(key);
      process.stdout.write(`round ${round}: helm install --wait ${fmt(installs.at(-1)!)} s, -> first actor pod Running ${fmt(firstPods.at(-1)!)} s, first message -> 4 Ready replicas ${fmt(toFour.at(-1)!)} s\n`);

      await waitStatus(ns, 'burst', (x) => x.status === 'Napping' && x.running === 0, 'Napping again', 180_000);
      await kubectl(['delete', 'asyncactors', '--all', '-n', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
      await helm(['uninstall', release, '-n', sys, '--wait', '--timeout', '120s']);
      await kubectl(['delete', 'namespace', ns, sys, '--wait=false']);
    }

    console.log(`\nin-cluster operator on the e2e node, ${ROUNDS} rounds (median, min-max):`);
    const row = (what: string, xs: number[]) => console.log(`| ${what} | ${fmt(median(xs))} s | ${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))} s |`);
    console.log('| what | median | range |\n|---|---|---|');
    row('`helm install --wait` (2 webhook + 2 reconciler pods Ready)', installs);
    row('`helm install` start -> first actor pod Running and Ready', firstPods);
    row('first of 20 messages -> 4 Ready replicas (queueLength 5)', toFour);
    console.log(
      `\nimage ${image.ref}: ${fmt(image.layerBytes / 1e6)} MB of layers (${fmt(gz / 1e6)} MB gzip); written in ${fmt((built - t0) / 1000)} s, imported in ${fmt((imported - built) / 1000)} s`,
    );
  } finally {
    for (const k of ['r1', 'r2', 'r3', 'r4', 'r5']) released.add(k);
    await conn?.close().catch(() => undefined);
    await rabbit?.destroy().catch(() => undefined);
    await new Promise<void>((r) => releaseServer.close(() => r()));
    await node?.stop();
    await cp.stop();
  }
}
