// `asya-webhook check`: is this installation healthy? One line per check, a fix for each failure, exit 1 when
// any fails (like `linkerd check`). Decisions in src/check/checks.ts, I/O in src/check/io.ts.
import { readFileSync } from 'node:fs';
import { anyFailed, formatResults } from '../check/checks.js';
import { ClusterCheckIO } from '../check/io.js';
import { loadClusterAccess } from '../kube/kubeconfig.js';
import { KubeRest } from '../kube/rest.js';
import { runChecks } from '../check/run.js';

export interface CheckCliOptions {
  kubeconfig?: string;
  namespace: string;
  release?: string;
  dryRunNamespace: string;
  config?: string;
  output: 'text' | 'json';
}

export async function runCheck(opts: CheckCliOptions): Promise<void> {
  const rest = new KubeRest(await loadClusterAccess(opts.kubeconfig), { userAgent: 'asya-webhook-check' });
  const config = opts.config ? { source: opts.config, text: readFileSync(opts.config, 'utf8') } : undefined;
  const results = await runChecks(new ClusterCheckIO(rest), {
    namespace: opts.namespace,
    release: opts.release,
    dryRunNamespace: opts.dryRunNamespace,
    config,
  });
  rest.close();
  process.stdout.write(opts.output === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatResults(results));
  if (anyFailed(results)) process.exitCode = 1;
}
