/**
 * Starts the e2e control plane (etcd, kube-apiserver, kube-controller-manager,
 * KEDA operator) and a node (kube-scheduler, kubelet, containerd: pods run) for
 * a developer, prints `export KUBECONFIG=...`, and keeps it running until
 * Ctrl-C, then stops everything.
 *
 *   node_modules/.bin/node scripts/control-plane.ts [--no-keda] [--no-node]   # Node >= 23.6 strips types itself
 *   npx tsx scripts/control-plane.ts [--no-keda] [--no-node]                  # any Node >= 20 (tsx is not a devDependency)
 *
 * Builds or reuses the binaries first with scripts/e2e-tools.sh (~15 min cold)
 * and, for the node, scripts/e2e-node-tools.sh (the node needs root and
 * scripts/ci-setup.d/07-node.sh's Debian packages).
 * ASYA_E2E_KEEP=1 keeps the temp dirs (logs, etcd data, node) after stopping.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startControlPlane } from '../test/e2e/support/controlPlane.ts';
import { startNode, type KubeNode } from '../test/e2e/support/node.ts';

const repoRoot = path.resolve(path.dirname(decodeURIComponent(new URL(import.meta.url).pathname)), '..');

function buildTools(script = 'e2e-tools.sh'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, 'scripts', script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop();
      if (code === 0 && last) resolve(last);
      else reject(new Error(`scripts/${script} failed (exit ${code})`));
    });
  });
}

async function main(): Promise<void> {
  const withKeda = !process.argv.includes('--no-keda');
  const withNode = !process.argv.includes('--no-node');
  // Ctrl-C while starting or running: stop cleanly (a second Ctrl-C exits at once;
  // the launcher's exit hook still kills the processes).
  let stopping: (() => Promise<void>) | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nstopping the control plane ...\n');
    void (stopping ? stopping() : Promise.resolve()).then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const binDir = await buildTools();
  if (withNode) await buildTools('e2e-node-tools.sh');
  const t0 = Date.now();
  const cp = await startControlPlane({ binDir, withKeda });
  stopping = cp.stop;
  let node: KubeNode | undefined;
  if (withNode && !interrupted) {
    try {
      node = await startNode(cp, { logDir: cp.logDir });
    } catch (e) {
      await cp.stop();
      throw e;
    }
    const n = node;
    stopping = async () => {
      await n.stop();
      await cp.stop();
    };
  }
  if (interrupted) {
    await stopping();
    process.exit(0);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stderr.write(
    `control plane up in ${secs}s: ${cp.server} (${withKeda ? 'with' : 'without'} KEDA)\n` +
      (node
        ? `node ${node.name} Ready: pods reach the host at ${node.ip}; images ${Object.values(node.images).join(', ')}\n` +
          `  ctr --address ${node.containerdSocket} -n k8s.io images ls\n`
        : 'no node (--no-node): pods stay Pending\n') +
      `logs: ${cp.logDir}  binaries: ${cp.binDir}\n` +
      `Ctrl-C to stop.\n`,
  );
  process.stdout.write(`export KUBECONFIG=${cp.kubeconfig}\nexport PATH=${cp.binDir}:$PATH\n`);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
