// `asya-webhook check`: is this installation healthy? One line per check, a fix for each failure, exit 1 when
// any fails (like `linkerd check`). Decisions in src/check/checks.ts, I/O in src/check/io.ts.
import { Option, type Command } from 'commander';
import { kubeconfigOption } from '../options.js';
import { readFileSync } from 'node:fs';
import { anyFailed, formatResults } from '../../check/checks.js';
import { ClusterCheckIO } from '../../check/io.js';
import { loadClusterAccess } from '../../kube/kubeconfig.js';
import { KubeRest } from '../../kube/rest.js';
import { RestKubeClient } from '../../kube/restClient.js';
import { runChecks } from '../../check/run.js';

export interface CheckCliOptions {
  kubeconfig?: string;
  namespace: string;
  release?: string;
  dryRunNamespace: string;
  config?: string;
  output: 'text' | 'json';
}

export async function runCheck(opts: CheckCliOptions): Promise<void> {
  // check never hangs on a dead endpoint: every API call has an 8 s deadline.
  const rest = new KubeRest(await loadClusterAccess(opts.kubeconfig), { userAgent: 'asya-webhook-check', timeoutMs: 8000 });
  const config = opts.config ? { source: opts.config, text: readFileSync(opts.config, 'utf8') } : undefined;
  const results = await runChecks(new ClusterCheckIO(new RestKubeClient(rest), rest), {
    namespace: opts.namespace,
    release: opts.release,
    dryRunNamespace: opts.dryRunNamespace,
    config,
  });
  rest.close();
  process.stdout.write(opts.output === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatResults(results));
  if (anyFailed(results)) process.exitCode = 1;
}

/** `asya-webhook check` */
export function registerCheck(program: Command): void {
  const c = program
    .command('check')
    .description('check an installation: CRDs, webhook configurations and certificate, the webhook through the API server, the leader lease, transports; exit 1 when any check fails');
  kubeconfigOption(c)
    .option('-n, --namespace <namespace>', 'namespace of the installation', 'asya-system')
    .option('--release <name>', 'helm release to check when several are installed')
    .option('--dry-run-namespace <namespace>', 'namespace of the dry-run AsyncActor sent through the API server (not excluded from the webhook)', 'default')
    .option('-c, --config <file>', 'operator configuration file (default: the ConfigMap of the installation)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts) => runCheck(opts));
}
