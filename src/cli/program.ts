// The asya-webhook command line: serve, inject, validate, certs, crd.
import { Command, Option } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ActorIndex } from '../api/actorIndex.js';
import { buildCrd } from '../api/crd.js';
import type { AsyncActor } from '../api/schema.js';
import { validateActor } from '../api/validate.js';
import { generateCertificates } from '../certs/generate.js';
import { ConfigError, loadConfigFile, parseConfig } from '../config/load.js';
import type { OperatorConfig } from '../config/schema.js';
import { injectObject } from '../injection/offline.js';
import { ACTOR_KIND } from '../names.js';
import { formatFieldError } from '../util/schemaChecker.js';
import { parseYamlDocuments, toYamlDocuments, type YamlDoc } from '../util/yamlDocs.js';
// serve, controller and check load the Kubernetes client and the brokers' clients: imported when run, so
// that validate, inject, certs and crd start fast.

/** Used by validate and inject when no --config is given: both transports enabled, loopback brokers. */
export const DEVELOPMENT_CONFIG = {
  transports: {
    rabbitmq: { enabled: true, type: 'rabbitmq', config: { host: 'localhost', passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' } } },
    sqs: { enabled: true, type: 'sqs', config: { region: 'us-east-1' } },
  },
};

function loadConfigOrDev(path: string | undefined, quiet = false): OperatorConfig {
  if (path) return loadConfigFile(path);
  if (!quiet) process.stderr.write('note: no --config given, using the development configuration (transports rabbitmq and sqs enabled)\n');
  return parseConfig(structuredClone(DEVELOPMENT_CONFIG), 'development configuration');
}

function readDocs(files: string[]): YamlDoc[] {
  return files.flatMap((f) => parseYamlDocuments(f === '-' ? readFileSync(0, 'utf8') : readFileSync(f, 'utf8'), f));
}

const isActor = (v: unknown): v is AsyncActor => !!v && typeof v === 'object' && (v as { kind?: unknown }).kind === ACTOR_KIND;

export function buildProgram(): Command {
  const program = new Command('asya-webhook')
    .description('Admission webhook and tools for Asya AsyncActors')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('serve')
    .description('run the TLS admission server (validates AsyncActors, injects actor pods)')
    .requiredOption('-c, --config <file>', 'operator configuration file (YAML)')
    .option('--cert-dir <dir>', 'directory with tls.crt and tls.key (reloaded when they change)')
    .option('--tls-cert-file <file>', 'serving certificate (instead of --cert-dir)')
    .option('--tls-private-key-file <file>', 'serving key (instead of --cert-dir)')
    .addOption(new Option('--port <port>', 'HTTPS port').default(8443).argParser(parsePort))
    .addOption(new Option('--health-port <port>', 'plain HTTP port for /healthz and /readyz').default(8081).argParser(parsePort))
    .addOption(new Option('--metrics-port <port>', 'plain HTTP port for /metrics (may equal --health-port)').default(8080).argParser(parsePort))
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--kubeconfig <file>', 'kubeconfig for the actor cache (default: KUBECONFIG or in-cluster)')
    .option('--actors <files...>', 'serve AsyncActors from these files instead of watching a cluster (development)')
    .option('--body-limit <size>', 'largest AdmissionReview accepted', '8mb')
    .addOption(new Option('--shutdown-delay <seconds>', 'on SIGTERM, seconds to keep serving while endpoints update').default(3).argParser(Number))
    .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']).default('info'))
    .action(async (opts) => {
      await (await import('./serve.js')).runServe(opts);
    });

  program
    .command('controller')
    .description('run the reconciler: queues, workloads, KEDA objects and status for every AsyncActor')
    .requiredOption('-c, --config <file>', 'operator configuration file (YAML)')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG or in-cluster)')
    .addOption(new Option('--health-port <port>', 'plain HTTP port for /healthz and /readyz').default(8081).argParser(parsePort))
    .addOption(new Option('--metrics-port <port>', 'plain HTTP port for /metrics (may equal --health-port)').default(8080).argParser(parsePort))
    .option('--host <address>', 'address the health and metrics ports listen on', '0.0.0.0')
    .addOption(new Option('--concurrency <n>', 'actors reconciled at once (overrides reconciler.concurrency)').argParser(parsePositiveInt))
    .option('--no-leader-election', 'reconcile without the leader lease (one replica only; development)')
    .option('--identity <name>', 'leader-election identity (default: $POD_NAME, else host name and pid)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']).default('info'))
    .action(async (opts) => {
      await (await import('./controller.js')).runController(opts);
    });

  program
    .command('check')
    .description('check an installation: CRDs, webhook configurations and certificate, the webhook through the API server, the leader lease, transports; exit 1 when any check fails')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG or in-cluster)')
    .option('-n, --namespace <namespace>', 'namespace of the installation', 'asya-system')
    .option('--release <name>', 'helm release to check when several are installed')
    .option('--dry-run-namespace <namespace>', 'namespace of the dry-run AsyncActor sent through the API server (not excluded from the webhook)', 'default')
    .option('-c, --config <file>', 'operator configuration file (default: the ConfigMap of the installation)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts) => {
      await (await import('./check.js')).runCheck(opts);
    });

  program
    .command('validate')
    .description('check AsyncActor files; prints one line per violation and exits 1 if any')
    .argument('<files...>', 'YAML files (- for stdin)')
    .option('-c, --config <file>', 'operator configuration (default: development configuration)')
    .action((files: string[], opts: { config?: string }) => {
      const config = loadConfigOrDev(opts.config);
      const docs = readDocs(files);
      const index = new ActorIndex();
      let invalid = 0;
      let count = 0;
      for (const doc of docs) {
        if (!isActor(doc.value)) continue;
        count++;
        const actor = doc.value;
        if (actor.metadata && !actor.metadata.namespace) actor.metadata.namespace = 'default';
        const { errors, warnings } = validateActor(actor, { config, actors: index });
        const label = `${doc.source}: ${actor.metadata?.name ?? '<unnamed>'}`;
        for (const w of warnings) process.stderr.write(`${label}: warning: ${w}\n`);
        if (errors.length > 0) {
          invalid++;
          for (const e of errors) process.stdout.write(`${label}: ${formatFieldError(e)}\n`);
        } else {
          index.upsert(actor);
          process.stdout.write(`${label}: valid\n`);
        }
      }
      if (count === 0) {
        process.stderr.write('no AsyncActor found in the given files\n');
        process.exitCode = 1;
      } else if (invalid > 0) process.exitCode = 1;
    });

  program
    .command('inject')
    .description('inject the sidecar into Pods and workload templates read from files, like the webhook does (offline)')
    .requiredOption('-f, --filename <files...>', 'Pods, Deployments, StatefulSets... (multi-document YAML, - for stdin)')
    .option('--actors <files...>', 'AsyncActor definitions (AsyncActors among --filename are used too)')
    .option('-c, --config <file>', 'operator configuration (default: development configuration)')
    .action((opts: { filename: string[]; actors?: string[]; config?: string }) => {
      const config = loadConfigOrDev(opts.config);
      const docs = readDocs(opts.filename);
      const index = new ActorIndex();
      for (const d of [...readDocs(opts.actors ?? []), ...docs]) {
        if (isActor(d.value)) {
          const a = d.value;
          index.upsert({ ...a, metadata: { ...a.metadata, namespace: a.metadata?.namespace ?? 'default' } });
        }
      }
      let failed = false;
      const out = docs.map((d) => {
        const r = injectObject(d.value, index, config);
        if (r.outcome === 'denied') {
          failed = true;
          process.stderr.write(`${d.source}: ${describe(d.value)}: refused: ${r.message}\n`);
        } else if (r.outcome === 'skipped') process.stderr.write(`${d.source}: ${describe(d.value)}: not injected: ${r.message}\n`);
        return r.object;
      });
      process.stdout.write(toYamlDocuments(out));
      if (failed) process.exitCode = 1;
    });

  program
    .command('certs')
    .description('write a development CA and serving certificate (ca.crt, tls.crt, tls.key) for the given names')
    .option('--host <names...>', 'DNS names and IP addresses of the webhook', ['localhost', '127.0.0.1'])
    .option('-o, --out <dir>', 'output directory', 'webhook-certs')
    .addOption(new Option('--days <days>', 'validity of the serving certificate').default(365).argParser(Number))
    .action((opts: { host: string[]; out: string; days: number }) => {
      const c = generateCertificates({ hosts: opts.host, days: opts.days });
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(join(opts.out, 'ca.crt'), c.caCert);
      writeFileSync(join(opts.out, 'tls.crt'), c.cert);
      writeFileSync(join(opts.out, 'tls.key'), c.key, { mode: 0o600 });
      process.stdout.write(`wrote ${opts.out}/ca.crt, tls.crt, tls.key for ${opts.host.join(', ')}\n`);
    });

  program
    .command('crd')
    .description('print the AsyncActor CustomResourceDefinition')
    .action(() => {
      process.stdout.write(stringify(buildCrd(), { lineWidth: 0 }));
    });

  return program;
}

function describe(v: unknown): string {
  const o = v as { kind?: string; metadata?: { name?: string; generateName?: string } };
  return `${o?.kind ?? '?'}/${o?.metadata?.name ?? o?.metadata?.generateName ?? '?'}`;
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`invalid number: ${v}`);
  return n;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${v}`);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

