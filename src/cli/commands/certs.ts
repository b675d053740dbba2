// `asya-webhook certs`: a development CA and serving certificate for the webhook.
import { Option, type Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCertificates } from '../../certs/generate.js';

export function registerCerts(program: Command): void {
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
}
