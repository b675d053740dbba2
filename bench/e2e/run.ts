// `npm run bench:e2e`: benchmarks through a real control plane (test/e2e/support/controlPlane.ts), each
// file bench/e2e/*.e2e-bench.ts in turn, or those named: `npm run bench:e2e -- admission`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.e2e-bench.js'))
  .map((f) => f.replace(/\.e2e-bench\.js$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();
for (const name of benches) {
  console.log(`\n# ${name}`);
  const mod = (await import(join(here, `${name}.e2e-bench.js`))) as { run: () => Promise<void> };
  await mod.run();
}
