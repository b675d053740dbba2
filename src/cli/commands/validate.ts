// `asya-webhook validate`: AsyncActor files checked as the webhook would (one line per violation, exit 1 if any).
import type { Command } from 'commander';
import { ActorIndex } from '../../api/actorIndex.js';
import { validateActor } from '../../api/validate.js';
import { formatFieldError } from '../../util/schemaChecker.js';
import { devConfigOption, isActor, loadConfigOrDev, readDocs } from '../options.js';

export function runValidate(files: string[], opts: { config?: string }): void {
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
}

export function registerValidate(program: Command): void {
  const c = program
    .command('validate')
    .description('check AsyncActor files; prints one line per violation and exits 1 if any')
    .argument('<files...>', 'YAML files (- for stdin)');
  devConfigOption(c).action((files: string[], opts: { config?: string }) => runValidate(files, opts));
}
