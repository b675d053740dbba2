// Jest globalSetup of the e2e project: one real control plane (etcd, kube-apiserver,
// kube-controller-manager, KEDA) for every e2e file, described to the test workers through env variables.
// Plain JS loaded natively by Jest; Node 24 strips the types of controlPlane.ts itself.
export default async function globalSetup() {
  const { startControlPlane } = await import('./controlPlane.ts');
  const started = Date.now();
  const cp = await startControlPlane({ withKeda: true });
  globalThis.__ASYA_CONTROL_PLANE__ = cp;
  process.env.ASYA_E2E_KUBECONFIG = cp.kubeconfig;
  process.env.ASYA_E2E_SERVER = cp.server;
  process.env.ASYA_E2E_TOKEN = cp.token;
  process.env.ASYA_E2E_CA_FILE = cp.caFile;
  process.env.ASYA_E2E_BIN_DIR = cp.binDir;
  process.env.ASYA_E2E_DIR = cp.dir;
  process.stderr.write(`\ne2e control plane up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${cp.server} (dir ${cp.dir})\n`);
}
