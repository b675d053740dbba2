// `asya-webhook controller`: the reconciler. Same configuration file as `serve`.
import { Option, type Command } from 'commander';
import { kubeconfigOption, logLevelOption, parsePositiveInt, serverPortOptions } from '../options.js';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadConfigFile } from '../../config/load.js';
import { loadClusterAccess } from '../../kube/kubeconfig.js';
import { KubeRest } from '../../kube/rest.js';
import { RestKubeClient } from '../../kube/restClient.js';
import { startObservabilityServers } from '../../observability/healthServer.js';
import { createLogger } from '../../observability/logger.js';
import { Controller } from '../../reconciler/controller.js';
import { ReconcilerMetrics } from '../../reconciler/metrics.js';
import { createTransports } from '../../transports/index.js';
import { POD_NAME_ENV } from '../../names.js';

export interface ControllerCliOptions {
  config: string;
  kubeconfig?: string;
  healthPort: number;
  metricsPort: number;
  host: string;
  logLevel: string;
  concurrency?: number;
  leaderElection?: boolean;
  identity?: string;
}

export async function runController(opts: ControllerCliOptions): Promise<void> {
  const logger = createLogger(opts.logLevel, 'asya-reconciler');
  const config = loadConfigFile(opts.config);
  if (opts.concurrency !== undefined) config.reconciler.concurrency = opts.concurrency;
  if (opts.leaderElection === false) config.reconciler.leaderElection.enabled = false;
  // A missing runtime script must not crash-loop the reconciler (the chart's default runtime.source=local has
  // none in the image): everything else is reconciled, the asya-runtime ConfigMap is left alone and every
  // actor says why (an Event and its WorkloadReady message).
  let runtimeScript: string | undefined;
  try {
    runtimeScript = readFileSync(config.runtime.scriptPath, 'utf8');
  } catch (err) {
    logger.warn('runtime script not readable: the asya-runtime ConfigMap is not managed until it is (set runtime.source)', {
      scriptPath: config.runtime.scriptPath,
      error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
    });
  }
  const access = await loadClusterAccess(opts.kubeconfig);
  const metrics = new ReconcilerMetrics({ defaultMetrics: true });
  let shuttingDown = false;
  const rest = new KubeRest(access, { userAgent: 'asya-reconciler' });
  const controller = new Controller({
    rest,
    api: new RestKubeClient(rest),
    config,
    transports: await createTransports(config, logger),
    runtimeScript,
    concurrency: config.reconciler.concurrency,
    identity: opts.identity ?? process.env[POD_NAME_ENV] ?? `${hostname()}-${process.pid}`,
    logger,
    metrics,
  });
  const observability = await startObservabilityServers({
    healthPort: opts.healthPort,
    metricsPort: opts.metricsPort,
    host: opts.host,
    registry: metrics.registry,
    health: { notReady: () => [...(shuttingDown ? ['shutting down'] : []), ...controller.notReady()] },
  });
  controller.start();
  logger.info('asya reconciler started', {
    transports: Object.keys(config.transports),
    concurrency: config.reconciler.concurrency,
    leaderElection: config.reconciler.leaderElection.enabled,
    healthPort: opts.healthPort,
    metricsPort: opts.metricsPort,
  });

  const shutdown = async (reason: string, code = 0) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { reason });
    await controller.stop();
    await observability.close();
    process.exitCode = code;
    logger.info('stopped');
    if (code !== 0) process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** `asya-webhook controller` */
export function registerController(program: Command): void {
  const c = program
    .command('controller')
    .description('run the reconciler: queues, workloads, KEDA objects and status for every AsyncActor');
  c.requiredOption('-c, --config <file>', 'operator configuration file (YAML)');
  serverPortOptions(kubeconfigOption(c))
    .option('--host <address>', 'address the health and metrics ports listen on', '0.0.0.0')
    .addOption(new Option('--concurrency <n>', 'actors reconciled at once (overrides reconciler.concurrency)').argParser(parsePositiveInt))
    .option('--no-leader-election', 'reconcile without the leader lease (one replica only; development)')
    .option('--identity <name>', 'leader-election identity (default: $POD_NAME, else host name and pid)');
  logLevelOption(c).action(async (opts) => runController(opts));
}
