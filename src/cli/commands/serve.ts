// `asya-webhook serve`: wires configuration, the actor cache, the HTTPS server and the health port.
import { Option, type Command } from 'commander';
import { kubeconfigOption, logLevelOption, parsePort, serverPortOptions } from '../options.js';
import { readFileSync } from 'node:fs';
import { ActorIndex } from '../../api/actorIndex.js';
import type { AsyncActor } from '../../api/schema.js';
import { loadConfigFile } from '../../config/load.js';
import { runActorInformer } from '../../kube/actorInformer.js';
import { loadClusterAccess } from '../../kube/kubeconfig.js';
import { KubeRest } from '../../kube/rest.js';
import type { RunningInformer } from '../../kube/informer.js';
import { ACTOR_KIND } from '../../names.js';
import { startObservabilityServers } from '../../observability/healthServer.js';
import { createLogger } from '../../observability/logger.js';
import { parseYamlDocuments } from '../../util/yamlDocs.js';
import { WebhookMetrics } from '../../webhook/metrics.js';
import { WebhookServer } from '../../webhook/server.js';
import { certPathsFromDir, type CertPaths } from '../../webhook/tls.js';

export interface ServeOptions {
  config: string;
  certDir?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  port: number;
  healthPort: number;
  metricsPort: number;
  host: string;
  kubeconfig?: string;
  actors?: string[];
  bodyLimit: string;
  shutdownDelay: number;
  logLevel: string;
}

function certPaths(opts: ServeOptions): CertPaths {
  if (opts.tlsCertFile || opts.tlsPrivateKeyFile) {
    if (!opts.tlsCertFile || !opts.tlsPrivateKeyFile) throw new Error('--tls-cert-file and --tls-private-key-file go together');
    return { certFile: opts.tlsCertFile, keyFile: opts.tlsPrivateKeyFile };
  }
  if (!opts.certDir) throw new Error('give --cert-dir (with tls.crt and tls.key) or --tls-cert-file and --tls-private-key-file');
  return certPathsFromDir(opts.certDir);
}

export async function runServe(opts: ServeOptions): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const config = loadConfigFile(opts.config);
  const metrics = new WebhookMetrics({ defaultMetrics: true });
  const index = new ActorIndex();
  let informer: RunningInformer | undefined;
  let shuttingDown = false;

  if (opts.actors) {
    for (const f of opts.actors) {
      for (const d of parseYamlDocuments(readFileSync(f, 'utf8'), f)) {
        const a = d.value as AsyncActor;
        if (a?.kind === ACTOR_KIND) index.upsert({ ...a, metadata: { ...a.metadata, namespace: a.metadata?.namespace ?? 'default' } });
      }
    }
    logger.info('serving actors from files', { actors: index.size });
  } else {
    const access = await loadClusterAccess(opts.kubeconfig);
    informer = runActorInformer(new KubeRest(access, { userAgent: 'asya-webhook' }), index, logger, () => metrics.cacheSize.set(index.size));
  }
  metrics.cacheSize.set(index.size);

  const server = new WebhookServer({ config, actors: index, certs: certPaths(opts), port: opts.port, host: opts.host, logger, metrics, bodyLimit: opts.bodyLimit });
  const port = await server.start();
  const observability = await startObservabilityServers({
    healthPort: opts.healthPort,
    metricsPort: opts.metricsPort,
    host: opts.host,
    registry: metrics.registry,
    health: {
      notReady: () => [
        ...(shuttingDown ? ['shutting down'] : []),
        ...(server.certLoaded ? [] : ['certificate']),
        ...(informer && !informer.synced ? ['actor cache'] : []),
      ],
    },
  });
  logger.info('asya webhook serving', { port, healthPort: opts.healthPort, metricsPort: opts.metricsPort, transports: Object.keys(config.transports) });

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    // Stay up while the endpoint is removed from the Service, then finish in-flight reviews.
    await new Promise((r) => setTimeout(r, opts.shutdownDelay * 1000));
    await server.stop();
    await informer?.stop();
    await observability.close();
    logger.info('stopped');
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** `asya-webhook serve` */
export function registerServe(program: Command): void {
  const c = program
    .command('serve')
    .description('run the TLS admission server (validates AsyncActors, injects actor pods)')
    .requiredOption('-c, --config <file>', 'operator configuration file (YAML)')
    .option('--cert-dir <dir>', 'directory with tls.crt and tls.key (reloaded when they change)')
    .option('--tls-cert-file <file>', 'serving certificate (instead of --cert-dir)')
    .option('--tls-private-key-file <file>', 'serving key (instead of --cert-dir)')
    .addOption(new Option('--port <port>', 'HTTPS port').default(8443).argParser(parsePort));
  serverPortOptions(c)
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--actors <files...>', 'serve AsyncActors from these files instead of watching a cluster (development)')
    .option('--body-limit <size>', 'largest AdmissionReview accepted', '8mb')
    .addOption(new Option('--shutdown-delay <seconds>', 'on SIGTERM, seconds to keep serving while endpoints update').default(3).argParser(Number));
  logLevelOption(kubeconfigOption(c)).action(async (opts) => runServe(opts));
}
