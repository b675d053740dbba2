/**
 * Starts the e2e control plane (etcd, kube-apiserver, kube-controller-manager,
 * KEDA operator) for a developer, prints `export KUBECONFIG=...`, and keeps it
 * running until Ctrl-C, then stops everything.
 *
 *   node_modules/.bin/node scripts/control-plane.ts [--no-keda]   # Node >= 23.6 strips types itself
 *   npx tsx scripts/control-plane.ts [--no-keda]                  # any Node >= 20 (tsx is not a devDependency)
 *
 * Builds or reuses the binaries first with scripts/e2e-tools.sh (~15 min cold).
 * ASYA_E2E_KEEP=1 keeps the temp dir (logs, etcd data) after stopping.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startControlPlane } from '../test/e2e/support/controlPlane.ts';

const repoRoot = path.resolve(path.dirname(decodeURIComponent(new URL(import.meta.url).pathname)), '..');

function buildTools(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, 'scripts', 'e2e-tools.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const binDir = out.trim().split('\n').pop();
      if (code === 0 && binDir) resolve(binDir);
      else reject(new Error(`scripts/e2e-tools.sh failed (exit ${code})`));
    });
  });
}

async function main(): Promise<void> {
  const withKeda = !process.argv.includes('--no-keda');
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
  const t0 = Date.now();
  const cp = await startControlPlane({ binDir, withKeda });
  stopping = cp.stop;
  if (interrupted) {
    await cp.stop();
    process.exit(0);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stderr.write(
    `control plane up in ${secs}s: ${cp.server} (${withKeda ? 'with' : 'without'} KEDA)\n` +
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
