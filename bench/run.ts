// `npm run bench -- NAME` runs bench/NAME.bench.ts; `npm run bench` runs them all.
// Each benchmark prints progress on stderr and one JSON object per figure on stdout
// (../shared/BENCHMARKS.md).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, '')).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ') || 'none yet'}`);
  process.exit(2);
}
if (!available.length) console.error('no benchmarks yet (see bench/README.md)');
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.error(`== ${name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.bench.ts`], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
