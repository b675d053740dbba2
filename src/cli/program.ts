// The asya-webhook command line: one file per sub-command in commands/, shared options in options.ts.
import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { registerCerts } from './commands/certs.js';
import { registerCrd } from './commands/crd.js';
import { registerInject } from './commands/inject.js';
import { registerValidate } from './commands/validate.js';

/**
 * serve, controller and check load the brokers' clients and more: their modules are imported when one of them
 * runs, so that validate, inject, certs and crd start fast.
 */
async function registerServers(program: Command, argv: string[]): Promise<void> {
  const wanted = argv.slice(2).find((a) => !a.startsWith('-'));
  const all = wanted === undefined || !['validate', 'inject', 'certs', 'crd'].includes(wanted);
  if (all || wanted === 'serve') (await import('./commands/serve.js')).registerServe(program);
  if (all || wanted === 'controller') (await import('./commands/controller.js')).registerController(program);
  if (all || wanted === 'check') (await import('./commands/check.js')).registerCheck(program);
}

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('asya-webhook')
    .description('Admission webhook and tools for Asya AsyncActors')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerValidate(program);
  registerInject(program);
  registerCerts(program);
  registerCrd(program);
  await registerServers(program, argv);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
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
