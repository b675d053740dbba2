// `asya-webhook crd`: the AsyncActor CustomResourceDefinition this binary validates against.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { buildCrd } from '../../api/crd.js';

export function registerCrd(program: Command): void {
  program
    .command('crd')
    .description('print the AsyncActor CustomResourceDefinition')
    .action(() => {
      process.stdout.write(stringify(buildCrd(), { lineWidth: 0 }));
    });
}
