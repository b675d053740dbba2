// `npm run bench`: runs every benchmark in this folder in turn (each prints its own figures), or those
// named on the command line: `npm run bench -- webhook`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .map((f) => f.replace(/\.bench\.js$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

for (const name of benches) {
  console.log(`\n# ${name}`);
  const mod = (await import(join(here, `${name}.bench.js`))) as { run: () => Promise<void> };
  await mod.run();
}
