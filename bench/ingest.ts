// `npm run bench:ingest [-- --sizes 100000,1000000]`: the durable-ingest question of `npm run bench`
// alone (bench/compare-ingest.ts: mnemo beside better-sqlite3, lmdb and the raw write+fdatasync
// floor, in one run), without the other questions or a BENCHMARKS.md rewrite. Prints the table and
// the goals and writes them to bench/results/ingest.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { compareIngest } from './compare-ingest.js';
import { fullRunSizes, goalLine, machine, questionTable, repoRoot } from './run-all.js';

function sizesFlag(): number[] {
  const at = process.argv.indexOf('--sizes');
  if (at < 0) return fullRunSizes.ingestEvents;
  const sizes = (process.argv[at + 1] ?? '').split(',').map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error(`--sizes: expected positive integers separated by commas, got ${process.argv[at + 1]}`);
  return sizes;
}

async function main(): Promise<void> {
  const m = machine();
  const t0 = performance.now();
  const q = await compareIngest({ sizes: sizesFlag(), queries: 0, log: (line) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`) });
  const report = [
    `# ${q.title}`,
    '',
    `\`npm run bench:ingest\` on ${m.date}: ${m.cores} cores, ${m.cpu}, Node ${m.node}, load average at start ${m.loadAtStart}.`,
    '',
    questionTable(q),
    '',
    '| goal | status | evidence |',
    '|---|---|---|',
    ...q.goals.map(goalLine),
    '',
    ...q.settings.map((s) => `- ${s}`),
    ...q.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  writeFileSync(join(repoRoot(), 'bench', 'results', 'ingest.md'), report);
  console.log(report);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
