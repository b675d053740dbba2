// Jest globalSetup of the e2e project: one real control plane (etcd, kube-apiserver,
// kube-controller-manager, KEDA) and one real node (kube-scheduler, kubelet, containerd; support/node.ts) for
// every e2e file, described to the test workers through env variables (read them with support/cluster.ts).
// Plain JS loaded natively by Jest; Node 24 strips the types of controlPlane.ts and node.ts itself.
export default async function globalSetup() {
  const { startControlPlane } = await import('./controlPlane.ts');
  const { startNode, nodeEnv } = await import('./node.ts');
  const started = Date.now();
  const cp = await startControlPlane({ withKeda: true });
  globalThis.__ASYA_CONTROL_PLANE__ = cp;
  process.env.ASYA_E2E_KUBECONFIG = cp.kubeconfig;
  process.env.ASYA_E2E_SERVER = cp.server;
  process.env.ASYA_E2E_TOKEN = cp.token;
  process.env.ASYA_E2E_CA_FILE = cp.caFile;
  process.env.ASYA_E2E_BIN_DIR = cp.binDir;
  process.env.ASYA_E2E_DIR = cp.dir;
  const cpSecs = ((Date.now() - started) / 1000).toFixed(1);
  const nodeStarted = Date.now();
  let node;
  try {
    node = await startNode(cp, { logDir: cp.logDir });
  } catch (e) {
    await cp.stop();
    throw e;
  }
  globalThis.__ASYA_NODE__ = node;
  Object.assign(process.env, nodeEnv(node));
  process.stderr.write(
    `\ne2e control plane up in ${cpSecs}s at ${cp.server} (dir ${cp.dir}); ` +
      `node ${node.name} Ready in ${((Date.now() - nodeStarted) / 1000).toFixed(1)}s at ${node.ip} (dir ${node.dir})\n`,
  );
}
