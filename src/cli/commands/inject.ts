// `asya-webhook inject`: the webhook's injection applied offline to Pods and workload templates in files, like
// `istioctl kube-inject`.
import type { Command } from 'commander';
import { ActorIndex } from '../../api/actorIndex.js';
import { injectObject } from '../../injection/offline.js';
import { toYamlDocuments } from '../../util/yamlDocs.js';
import { devConfigOption, isActor, loadConfigOrDev, readDocs } from '../options.js';

function describe(v: unknown): string {
  const o = v as { kind?: string; metadata?: { name?: string; generateName?: string } };
  return `${o?.kind ?? '?'}/${o?.metadata?.name ?? o?.metadata?.generateName ?? '?'}`;
}

export function runInject(opts: { filename: string[]; actors?: string[]; config?: string }): void {
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
}

export function registerInject(program: Command): void {
  const c = program
    .command('inject')
    .description('inject the sidecar into Pods and workload templates read from files, like the webhook does (offline)')
    .requiredOption('-f, --filename <files...>', 'Pods, Deployments, StatefulSets... (multi-document YAML, - for stdin)')
    .option('--actors <files...>', 'AsyncActor definitions (AsyncActors among --filename are used too)');
  devConfigOption(c).action((opts: { filename: string[]; actors?: string[]; config?: string }) => runInject(opts));
}
