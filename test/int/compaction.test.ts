// Compaction: sealed WAL segments become Parquet files that other readers can open; a full rebuild
// reads Parquet then the WAL; a crash at every step of compaction loses nothing and recovery
// removes orphans and duplicates. Crash tests run real child processes on the compiled engine
// (`npx tsc -p tsconfig.json` first) whose file layer SIGKILLs them at the chosen step.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';

import { compactSegment, listParquetFiles, verifyParquetDir } from '../../src/engine/compaction.js';
import { compactionCrashPoints } from '../support/crash-files.mjs';
import { Engine } from '../../src/engine/engine.js';
import { tempDir } from '../support/engine.js';
import { randomHistory } from '../support/history.js';

const quiet = { durability: 'none' as const, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} };

function walFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'wal')).filter((f) => f.endsWith('.wal'));
}

describe('compact()', () => {
  it('given a history over several segments, when compacted, then every event is in Parquet and a rebuild from Parquet equals the live state', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, ...quiet, segmentBytesMax: 4096 });
    await randomHistory(db, 11, 300);
    await db.whenIndexed();
    const live = db.digests();
    const lastSeq = db.stats().lastSeq;
    const stats = await db.compact();
    expect(stats.parquetRows).toBe(lastSeq);
    expect(stats.parquetFiles).toBeGreaterThan(1);
    expect(verifyParquetDir(join(dataDir, 'parquet'))).toMatchObject({ ok: true, rows: lastSeq });
    // Only the new, empty active segment is left in the WAL.
    expect(walFiles(dataDir)).toEqual([`${String(lastSeq + 1).padStart(20, '0')}.wal`]);
    expect(db.history(db.search({ type: 'person' }).nodes[0]?.id ?? 'none').length).toBeGreaterThanOrEqual(0);
    await db.close();

    const rebuilt = await Engine.open({ dataDir, ...quiet });
    expect(rebuilt.digests()).toEqual(live);
    await rebuilt.addNode({ type: 'doc' }); // appends continue after the compacted range
    expect(rebuilt.stats().lastSeq).toBe(lastSeq + 1);
    await rebuilt.close();
  });

  it('given compacted files, when read with the async reader of the hyparquet package and a plain JSON parser, then the rows are the events', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, ...quiet });
    const { nodeId } = await db.addNode({ type: 'person', properties: { name: 'Ada' } });
    await db.embed({ id: nodeId, vector: [0.5, 0.25, 0.125], text: 'hello' });
    await db.compact();
    await db.close();
    const [file] = listParquetFiles(join(dataDir, 'parquet'));
    const bytes = readFileSync(file!.path);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    expect(rows.map((r) => [Number(r.seq), r.type, r.entity_id])).toEqual([
      [1, 'prime.node.created', nodeId],
      [2, 'prime.vector.stored', nodeId],
    ]);
    expect(JSON.parse(rows[0]!.payload as string)).toEqual({ id: nodeId, type: 'person', properties: { name: 'Ada' } });
    expect(rows[0]!.vector).toBeUndefined();
    expect(JSON.parse(rows[1]!.payload as string)).toEqual({ id: nodeId, text: 'hello' });
    expect(rows[1]!.vector).toEqual([0.5, 0.25, 0.125]);
  });

  it('given background compaction and small segments, when events keep arriving, then sealed segments move to Parquet and nothing is lost', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, ...quiet, backgroundCompaction: true, segmentBytesMax: 2048 });
    await randomHistory(db, 12, 400);
    await db.whenIndexed();
    const live = db.digests();
    for (let i = 0; i < 200 && (db.stats().compaction as { segmentsCompacted: number }).segmentsCompacted === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((db.stats().compaction as { segmentsCompacted: number }).segmentsCompacted).toBeGreaterThan(0);
    await db.close();
    const reopened = await Engine.open({ dataDir, ...quiet });
    expect(reopened.digests()).toEqual(live);
    await reopened.close();
  });
});

const engineModule = resolve('dist/src/engine/engine.js');
const filesModule = resolve('dist/src/storage/files.js');
const crashFilesModule = resolve('test/support/crash-files.mjs');
const compactionSteps = Object.keys(compactionCrashPoints) as Array<keyof typeof compactionCrashPoints>;

/** The child: N events in batches of 10 (fsync durability), its digests saved, then compact() — which its file layer may SIGKILL at `crashAt`. */
function childScript(dataDir: string, crashAt: string | undefined): string {
  return `
    import { writeFileSync } from 'node:fs';
    import { Engine } from ${JSON.stringify(engineModule)};
    import { nodeFiles } from ${JSON.stringify(filesModule)};
    import { compactionCrashPoints, crashingFiles } from ${JSON.stringify(crashFilesModule)};
    const crashAt = ${JSON.stringify(crashAt ?? null)};
    const files = crashAt === null ? nodeFiles : crashingFiles(nodeFiles, compactionCrashPoints[crashAt]);
    const db = await Engine.open({ dataDir: ${JSON.stringify(dataDir)}, durability: 'fsync', segmentBytesMax: 1500, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {}, files });
    const ids = [];
    for (let b = 0; b < 20; b++) {
      const batch = [];
      for (let i = 0; i < 10; i++) {
        const id = 'node:doc:' + (b * 10 + i);
        batch.push({ type: 'prime.node.created', payload: { id, type: 'doc', properties: { b, i } } });
        ids.push(id);
      }
      if (b > 0) batch.push({ type: 'prime.edge.created', payload: { id: 'edge:' + b, source: ids[b], target: ids[b * 10], relation: 'next' } });
      await db.append(batch);
    }
    writeFileSync(${JSON.stringify(join(dataDir, 'digests.json'))}, JSON.stringify({ digests: db.digests(), lastSeq: db.stats().lastSeq }));
    await db.compact();
    await db.close();
    console.log('compacted');
  `;
}

async function runChild(dataDir: string, crashAt: string | undefined) {
  const script = join(await tempDir('mnemo-child-'), 'child.mjs');
  writeFileSync(script, childScript(dataDir, crashAt));
  return spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('a crash at each step of compaction', () => {
  for (const step of compactionSteps) {
    it(`given a crash right after '${step}', when reopened, then every acknowledged event is there once, orphans and duplicates are gone, and compaction completes`, async () => {
      const dataDir = await tempDir();
      const child = await runChild(dataDir, step);
      expect(child.signal, child.stderr).toBe('SIGKILL');
      const { digests, lastSeq } = JSON.parse(readFileSync(join(dataDir, 'digests.json'), 'utf8')) as { digests: Record<string, string>; lastSeq: number };
      const warnings: string[] = [];
      const db = await Engine.open({ dataDir, ...quiet, onWarning: (m) => warnings.push(m) });
      expect(db.stats().lastSeq).toBe(lastSeq);
      expect(db.digests()).toEqual(digests);
      const parquetDir = join(dataDir, 'parquet');
      expect(readdirSync(parquetDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      if (step === 'temp-write' || step === 'fsync') expect(warnings.join('\n')).toMatch(/left by a compaction that did not finish/);
      if (step === 'rename' || step === 'dir-fsync' || step === 'verify') expect(warnings.join('\n')).toMatch(/still in a WAL segment/);
      // Every seq is in exactly one place after recovery: Parquet ranges end where the WAL begins.
      const files = listParquetFiles(parquetDir);
      const walFirst = Math.min(...walFiles(dataDir).map((f) => Number(f.slice(0, 20))));
      expect((files[files.length - 1]?.lastSeq ?? 0) + 1).toBe(walFirst);
      await db.compact();
      expect(verifyParquetDir(parquetDir)).toMatchObject({ ok: true, rows: lastSeq });
      await db.close();
      const rebuilt = await Engine.open({ dataDir, ...quiet });
      expect(rebuilt.digests()).toEqual(digests);
      await rebuilt.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
  }

  it('given a worker whose engine is gone, when it has written the temp file, then it publishes nothing and removes the temp file', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, ...quiet, segmentBytesMax: 4096 });
    await randomHistory(db, 5, 100);
    await db.close();
    const [first, second] = walFiles(dataDir).sort();
    const segmentPath = join(dataDir, 'wal', first!);
    const job = { segmentPath, segmentBytes: statSync(segmentPath).size, firstSeq: Number(first!.slice(0, 20)), lastSeq: Number(second!.slice(0, 20)) - 1, parquetDir: join(dataDir, 'parquet') };
    await expect(compactSegment(job, undefined, () => false)).rejects.toThrow(/engine that started the compaction .* is gone/);
    expect(readdirSync(job.parquetDir)).toEqual([]);
    expect(statSync(segmentPath).size).toBe(job.segmentBytes);
    expect(await compactSegment(job)).toMatchObject({ firstSeq: job.firstSeq, lastSeq: job.lastSeq }); // the same job, its engine alive
  });

  it('given no crash, then the child compacts everything', async () => {
    const dataDir = await tempDir();
    const child = await runChild(dataDir, undefined);
    expect(child.stdout, child.stderr).toContain('compacted');
  });
});
