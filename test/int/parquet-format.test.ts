// The Parquet files compaction and export write are queryable by any tool (DuckDB here: payload as
// JSON text, vectors as a FLOAT list), read back bit for bit as the events the WAL holds, and files
// of the older format (msgpack payload) still read.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { DuckDBInstance, DuckDBListValue } from '@duckdb/node-api';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { listParquetFiles } from '../../src/engine/compaction.js';
import { checkpointsDirName } from '../../src/engine/checkpoint.js';
import { readParquetEvents } from '../../src/parquet/reader.js';
import type { StoredEvent } from '../../src/kernel/events.js';
import { tempDir } from '../support/engine.js';
import { randomHistory } from '../support/history.js';

const quiet = { durability: 'none' as const, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} };
const main = resolve('dist/src/cli/main.js');

/** Events as text that keeps key order and every float32 bit (a Float32Array as its values, each exact as a double). */
function exactly(events: readonly StoredEvent[]): string[] {
  return events.map((e) => JSON.stringify(e, (_k, v: unknown) => (v instanceof Float32Array ? { float32: Array.from(v) } : v)));
}

async function duckdbRows(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjects() as Array<Record<string, unknown>>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A data dir with a random history (vectors included) and a known node with a name and a vector. */
async function givenHistory(segmentBytesMax?: number): Promise<{ dataDir: string; db: Engine; nodeId: string; vector: Float32Array }> {
  const dataDir = await tempDir();
  const db = await Engine.open({ dataDir, ...quiet, ...(segmentBytesMax ? { segmentBytesMax } : {}) });
  await randomHistory(db, 41, 200);
  const { nodeId } = await db.addNode({ type: 'person', properties: { name: 'Ada Lovelace', born: 1815 } });
  const vector = Float32Array.from([0.1, -0.2, 1 / 3, 1e-7]);
  await db.embed({ id: nodeId, vector, text: 'analytical engine' });
  return { dataDir, db, nodeId, vector };
}

describe('Parquet any tool can query', () => {
  it('given compacted files, when DuckDB queries them, then json_extract_string reads the payload and the vector column holds the exact float32 values', async () => {
    const { dataDir, db, nodeId, vector } = await givenHistory(4096);
    const lastSeq = db.stats().lastSeq;
    await db.compact();
    await db.close();
    const glob = join(dataDir, 'parquet', '*.parquet');
    const [count] = await duckdbRows(`SELECT count(*) AS n, min(seq) AS first, max(seq) AS last FROM '${glob}'`);
    expect(count).toEqual({ n: BigInt(lastSeq), first: 1n, last: BigInt(lastSeq) });
    const named = await duckdbRows(`SELECT json_extract_string(payload, '$.properties.name') AS name FROM '${glob}' WHERE entity_id = '${nodeId}' AND type = 'prime.node.created'`);
    expect(named).toEqual([{ name: 'Ada Lovelace' }]);
    const [stored] = await duckdbRows(`SELECT vector, json_extract_string(payload, '$.text') AS text FROM '${glob}' WHERE entity_id = '${nodeId}' AND type = 'prime.vector.stored'`);
    expect(stored!.text).toBe('analytical engine');
    expect(Float32Array.from((stored!.vector as DuckDBListValue).items as number[])).toEqual(vector);
  });

  it('given `mnemo export --format parquet`, when DuckDB reads the file, then it holds every event with queryable payloads', async () => {
    const { dataDir, db, nodeId } = await givenHistory();
    const lastSeq = db.stats().lastSeq;
    await db.close();
    const out = join(await tempDir(), 'events.parquet');
    const run = spawnSync(process.execPath, [main, 'export', '--format', 'parquet', '--out', out, '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const [count] = await duckdbRows(`SELECT count(*) AS n FROM '${out}'`);
    expect(count!.n).toBe(BigInt(lastSeq));
    const [named] = await duckdbRows(`SELECT json_extract_string(payload, '$.properties.name') AS name FROM '${out}' WHERE entity_id = '${nodeId}' ORDER BY seq LIMIT 1`);
    expect(named!.name).toBe('Ada Lovelace');
  });
});

describe('replay from Parquet', () => {
  it('given a history with vectors, when compacted, then the events read from Parquet are the WAL events bit for bit (key order, float32 vectors)', async () => {
    const { dataDir, db } = await givenHistory(4096);
    const fromWal = [...db.events(1)];
    await db.compact();
    const fromParquet = listParquetFiles(join(dataDir, 'parquet')).flatMap((f) => readParquetEvents(f.path));
    expect(exactly(fromParquet)).toEqual(exactly(fromWal));
    const vectors = fromParquet.filter((e) => e.type === 'prime.vector.stored' && e.payload.vector !== undefined);
    expect(vectors.length).toBeGreaterThan(0);
    for (const e of vectors) expect((e.payload as { vector: unknown }).vector).toBeInstanceOf(Float32Array);
    await db.close();
  });
});

describe('replicated events in Parquet', () => {
  it('given events stamped by replicated mode, when compacted and reopened from Parquet alone, then origin and hlc come back and the content is the same', async () => {
    const dataDir = await tempDir();
    // Replicated mode with no NATS to reach: appends still succeed (local first) and carry origin and hlc.
    const replication = { servers: ['nats://127.0.0.1:9'], origin: 'laptop' };
    const db = await Engine.open({ dataDir, ...quiet, segmentBytesMax: 4096, replication });
    await randomHistory(db, 43, 150);
    const fromWal = [...db.events(1)];
    expect(fromWal.every((e) => e.origin === 'laptop' && typeof e.hlc === 'string')).toBe(true);
    await db.compact();
    const fromParquet = listParquetFiles(join(dataDir, 'parquet')).flatMap((f) => readParquetEvents(f.path));
    expect(fromParquet.length).toBeGreaterThan(0);
    expect(exactly(fromParquet)).toEqual(exactly(fromWal.slice(0, fromParquet.length)));
    const digest = db.contentDigest();
    await db.close();

    const rows = await duckdbRows(`SELECT count(*) AS n, count(DISTINCT hlc) AS stamps, min(origin) AS origin FROM read_parquet('${join(dataDir, 'parquet')}/*.parquet')`);
    expect(rows[0]).toEqual({ n: BigInt(fromParquet.length), stamps: BigInt(fromParquet.length), origin: 'laptop' });
    // Without checkpoints, the reopen replays the compacted files (the WAL keeps only the segments not yet compacted).
    rmSync(join(dataDir, checkpointsDirName), { recursive: true, force: true });
    const reopened = await Engine.open({ dataDir, ...quiet, replication });
    expect(reopened.contentDigest()).toBe(digest);
    await reopened.close();
  });
});

/** A format-1 file, as mnemo wrote before: the same first four columns and the payload as msgpack bytes. */
function writeFormat1(path: string, events: readonly StoredEvent[]): void {
  const packr = new Packr({ useRecords: false, moreTypes: true });
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: [
      { name: 'root', num_children: 5 },
      { name: 'seq', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'ts', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'type', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'entity_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'payload', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' },
    ],
    kvMetadata: [
      { key: 'mnemo.format', value: '1' },
      { key: 'mnemo.payload', value: 'msgpack' },
    ],
  });
  parquet.write({
    columnData: [
      { name: 'seq', data: BigInt64Array.from(events, (e) => BigInt(e.seq)) },
      { name: 'ts', data: BigInt64Array.from(events, (e) => BigInt(e.ts)) },
      { name: 'type', data: events.map((e) => e.type) },
      { name: 'entity_id', data: events.map((e) => e.payload.id) },
      { name: 'payload', data: events.map((e) => packr.pack(e.payload)) },
    ],
  });
  parquet.finish();
  writeFileSync(path, writer.getBytes());
}

describe('older Parquet files', () => {
  it('given a data dir whose compacted files are format 1 (msgpack payloads), when reopened, then the state and the events are the same', async () => {
    const { dataDir, db } = await givenHistory(4096);
    const events = [...db.events(1)];
    await db.whenIndexed();
    const live = db.digests();
    await db.compact();
    await db.close();
    for (const file of listParquetFiles(join(dataDir, 'parquet'))) writeFormat1(file.path, events.slice(file.firstSeq - 1, file.lastSeq));
    const reopened = await Engine.open({ dataDir, ...quiet });
    expect(reopened.digests()).toEqual(live);
    expect(exactly([...reopened.events(1)])).toEqual(exactly(events));
    await reopened.close();
  });
});
