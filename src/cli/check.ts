// `asya-webhook check`: is this installation healthy? One line per check, a fix for each failure, exit 1 when
// any fails (like `linkerd check`). Decisions in src/check/checks.ts, I/O in src/check/io.ts.
import { readFileSync } from 'node:fs';
import { anyFailed, formatResults } from '../check/checks.js';
import { ClusterCheckIO, loadKubeConfig } from '../check/io.js';
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
  const kc = loadKubeConfig(opts.kubeconfig);
  const config = opts.config ? { source: opts.config, text: readFileSync(opts.config, 'utf8') } : undefined;
  const results = await runChecks(new ClusterCheckIO(kc), {
    namespace: opts.namespace,
    release: opts.release,
    dryRunNamespace: opts.dryRunNamespace,
    config,
  });
  process.stdout.write(opts.output === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatResults(results));
  if (anyFailed(results)) process.exitCode = 1;
}
