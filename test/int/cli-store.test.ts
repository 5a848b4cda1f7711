// The CLI around checkpoints, compaction, export and import, run as real child processes on the
// compiled build (`npx tsc -p tsconfig.json` first): node dist/src/cli/main.js <command> ...
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { toSnakeCase } from '../../src/kernel/wire.js';
import { tempDir } from '../support/engine.js';
import { randomHistory } from '../support/history.js';

const main = resolve('dist/src/cli/main.js');

function mnemo(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MNEMO_DATA_DIR: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Given a data dir holding a random history (with vectors), closed. */
async function givenDataDir(steps = 300): Promise<{ dataDir: string; lastSeq: number; counts: Record<string, unknown> }> {
  const dataDir = await tempDir();
  const db = await Engine.open({ dataDir, durability: 'none', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} });
  await randomHistory(db, 31, steps);
  const { totalNodes, totalEdges, totalVectors, nodesByType, edgesByRelation, lastSeq } = db.stats();
  await db.close();
  return { dataDir, lastSeq, counts: { totalNodes, totalEdges, totalVectors, nodesByType, edgesByRelation } };
}

/** `mnemo stats`, which prints snake_case as HTTP does. */
function statsOf(dataDir: string): Record<string, unknown> {
  const run = mnemo('stats', '--data-dir', dataDir);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as never;
}

describe('mnemo checkpoint, compact, verify, stats', () => {
  it('given a data dir, when checkpointed and compacted, then stats and verify see both, and verify catches a damaged Parquet file', async () => {
    const { dataDir, lastSeq, counts } = await givenDataDir();
    const checkpoint = mnemo('checkpoint', '--data-dir', dataDir);
    expect(checkpoint.status, checkpoint.stderr).toBe(0);
    expect(checkpoint.stdout).toContain(`checkpoint at seq ${lastSeq}`);
    const compact = mnemo('compact', '--data-dir', dataDir);
    expect(compact.status, compact.stderr).toBe(0);
    expect(compact.stdout).toContain(`${lastSeq} events`);
    const stats = statsOf(dataDir);
    expect(stats).toMatchObject(toSnakeCase({ ...counts, lastSeq, checkpoint: { seq: lastSeq }, compaction: { parquetRows: lastSeq } }) as object);

    const verify = mnemo('verify', '--data-dir', dataDir);
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/parquet .*: 1 files, \d+ events/);
    expect(verify.stdout).toMatch(/checkpoints .*: 1 \(seq \d+\)/);

    const parquetDir = join(dataDir, 'parquet');
    const file = join(parquetDir, readdirSync(parquetDir)[0]!);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 3)]! ^= 0xff;
    writeFileSync(file, bytes);
    const damaged = mnemo('verify', '--data-dir', dataDir);
    expect(damaged.status).toBe(1);
    expect(damaged.stdout).toContain(`damaged: ${file}`);
  });
});

describe('after an interrupted compaction and a restart', () => {
  it('given a compacted data dir holding an orphaned .tmp, when verified, then the orphan is reported as such and verify exits 0', async () => {
    const { dataDir } = await givenDataDir(100);
    expect(mnemo('compact', '--data-dir', dataDir).status).toBe(0);
    const orphan = join(dataDir, 'parquet', `${'9'.repeat(20)}-${'9'.repeat(20)}.parquet.tmp`);
    writeFileSync(orphan, 'half a file');
    const verify = mnemo('verify', '--data-dir', dataDir);
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.stdout).toContain(`leftover: ${orphan}`);
    expect(verify.stdout).not.toContain('damaged');
  });

  it('given a compacted data dir, when reopened, then stats count the earlier compaction run and its segments', async () => {
    const { dataDir } = await givenDataDir(100);
    expect(mnemo('compact', '--data-dir', dataDir).status).toBe(0);
    // `mnemo stats` prints the HTTP stats' snake_case shape.
    const { compaction } = statsOf(dataDir) as unknown as { compaction: { parquet_files: number; runs: number; segments_compacted: number } };
    expect(compaction.parquet_files).toBe(1);
    expect(compaction.runs).toBe(1);
    expect(compaction.segments_compacted).toBe(1);
  });
});

describe('mnemo export and import', () => {
  for (const format of ['jsonl', 'parquet'] as const) {
    it(`given a data dir, when exported as ${format} and imported into an empty one, then the counts are the same`, async () => {
      const { dataDir, lastSeq, counts } = await givenDataDir();
      mnemo('compact', '--data-dir', dataDir); // the export must span Parquet and the WAL
      const out = join(await tempDir(), `events.${format}`);
      const exported = mnemo('export', '--format', format, '--out', out, '--data-dir', dataDir);
      expect(exported.status, exported.stderr).toBe(0);
      expect(exported.stderr).toContain(`${lastSeq} events`);
      const target = await tempDir();
      const imported = mnemo('import', out, '--data-dir', target);
      expect(imported.status, imported.stderr).toBe(0);
      expect(statsOf(target)).toMatchObject(toSnakeCase({ ...counts, lastSeq }) as object);
    });
  }

  it('given a data dir, when exported as arrow, then apache-arrow reads every event back', async () => {
    const { dataDir, lastSeq } = await givenDataDir(100);
    const out = join(await tempDir(), 'events.arrow');
    const exported = mnemo('export', '--format', 'arrow', '--out', out, '--data-dir', dataDir);
    expect(exported.status, exported.stderr).toBe(0);
    const table = tableFromIPC(readFileSync(out));
    expect(table.numRows).toBe(lastSeq);
    expect(Number(table.getChild('seq')!.get(lastSeq - 1))).toBe(lastSeq);
    const first = JSON.parse(table.getChild('payload')!.get(0) as string) as { id: string };
    expect(first.id).toBe(table.getChild('entity_id')!.get(0));
  });

  it('given a JSONL file with an invalid event on line 1503, when imported, then the error names that line and exactly the 1502 events before it are in', async () => {
    const dir = await tempDir();
    const file = join(dir, 'events.jsonl');
    const lines: string[] = [];
    for (let i = 1; i <= 2000; i++) {
      const payload = i === 1503 ? { id: `node:doc:${i}`, type: 'Bad Type!' } : { id: `node:doc:${i}`, type: 'doc', properties: { i } };
      lines.push(JSON.stringify({ type: 'prime.node.created', payload }));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const target = await tempDir();
    const imported = mnemo('import', file, '--data-dir', target);
    expect(imported.status).toBe(1);
    expect(imported.stderr).toMatch(/line 1503: .*type/);
    expect(statsOf(target)).toMatchObject({ last_seq: 1502, total_nodes: 1502 });
  });

  it('given a JSONL file with a line that is not JSON, when imported, then the error names the line and the lines before it are in', async () => {
    const dir = await tempDir();
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, [JSON.stringify({ type: 'prime.node.created', payload: { type: 'doc' } }), '', '{"type": oops', JSON.stringify({ type: 'prime.node.created', payload: { type: 'doc' } })].join('\n'));
    const target = await tempDir();
    const imported = mnemo('import', file, '--data-dir', target);
    expect(imported.status).toBe(1);
    expect(imported.stderr).toMatch(/line 3: not JSON/);
    expect(statsOf(target)).toMatchObject({ last_seq: 1 });
  });

  it('given a bad format flag, then export exits 2 naming the choices', async () => {
    const run = mnemo('export', '--format', 'csv', '--data-dir', await tempDir());
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('jsonl, parquet, arrow');
  });
});
