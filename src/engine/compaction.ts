// Compaction: sealed WAL segments become Parquet files in <dataDir>/parquet/, off the main thread.
// This file holds the Parquet format of compacted (and exported) events, a synchronous reader for
// it, recovery of the Parquet directory at open, and the Compactor that drives the worker.
//
// Schema, one row per event, every column REQUIRED:
//   seq        INT64                the event's seq
//   ts         INT64                ms since the Unix epoch (plain INT64, not a TIMESTAMP type, so
//                                   every reader gives back the same integer the envelope holds)
//   type       BYTE_ARRAY (UTF8)    e.g. 'prime.node.created'
//   entity_id  BYTE_ARRAY (UTF8)    payload.id: the node, edge or vector the event is about
//   payload    BYTE_ARRAY           the payload as msgpack (msgpackr, useRecords false, moreTypes true)
// Key-value metadata: mnemo.format=1, mnemo.payload=msgpack, mnemo.first_seq, mnemo.last_seq, and
// mnemo.content_crc32: a CRC-32 over every row's values. Parquet pages carry no checksum by
// default, and a flipped bit inside a compressed payload can still decode (measured: a flipped
// byte in a test file passed hyparquet's decode), so this is what catches damage on read.
//
// Why msgpack and not JSON for the payload: vectors are Float32Array, which msgpackr with
// `moreTypes` writes as 4 bytes a dimension and reads back as a Float32Array, exactly as the WAL
// does; as JSON a 384-d vector is ~3x larger and comes back as float64 numbers, so a replay from
// Parquet could differ from one from the WAL. Each payload is its own msgpack document (no shared
// record structures), so any Parquet tool can hand one cell to any msgpack decoder.
//
// Writer: hyparquet-writer, chosen over parquetjs-lite by measurement (see BENCHMARKS.md,
// Parquet writer). Reader: hyparquet's column decoder, driven synchronously here, because reads in
// mnemo are synchronous (getNode/neighbors with asOf, history) and hyparquet's top-level API is async.

import { crc32 } from 'node:zlib';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Packr, Unpackr } from 'msgpackr';
import { parquetMetadata, parquetSchema, type FileMetaData } from 'hyparquet';
import { readColumn } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { getTreePath } from 'hyparquet/src/schema.js';
import { ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { fileWriter } from 'hyparquet-writer/src/node.js';

import { nodeFiles } from '../storage/files.js';
import { segmentEvents, type Wal } from '../../wal/wal.js';
import { assert, mnemoError } from '../kernel/errors.js';
import { eventFromLog } from '../kernel/event-codec.js';
import type { StoredEvent } from '../kernel/events.js';
import type { CompactionStats } from '../kernel/api.js';

/** Rows per row group: a group is the unit a reader decodes at once; 100K rows is ~15 MiB with vectors. */
export const parquetRowGroupRows = 100_000;
export const parquetFormatVersion = '1';

const payloadPackr = new Packr({ useRecords: false, moreTypes: true });
const payloadUnpackr = new Unpackr({ useRecords: false, moreTypes: true });

const schema: SchemaElement[] = [
  { name: 'root', num_children: 5 },
  { name: 'seq', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'ts', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'type', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'entity_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'payload', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' },
];

export function encodePayload(payload: unknown): Uint8Array {
  return payloadPackr.pack(payload);
}

export function decodePayload(bytes: Uint8Array): unknown {
  return payloadUnpackr.unpack(bytes);
}

export interface ParquetWriteResult {
  rows: number;
  firstSeq: number;
  lastSeq: number;
}

/**
 * Writes `events` (in seq order) to a new file at `path`, one row group per parquetRowGroupRows,
 * and fsyncs it. The caller renames it into place. Throws if the events are not contiguous.
 */
export function writeEventsParquet(path: string, events: Iterable<StoredEvent>, options: { fsync?: boolean } = {}): ParquetWriteResult {
  const rows: RowBuffer = newRowBuffer();
  let firstSeq = 0;
  let lastSeq = 0;
  let count = 0;
  let contentCrc = 0;
  // Row groups are written as they fill, so memory holds one group, whatever the file's size.
  const kvMetadata: Array<{ key: string; value: string }> = [];
  const writer = new ParquetWriter({ writer: fileWriter(path), schema, codec: 'SNAPPY', statistics: false, kvMetadata, createdBy: 'mnemo' });
  for (const event of events) {
    if (count === 0) firstSeq = event.seq;
    else assert(event.seq === lastSeq + 1, `events for Parquet jump from seq ${lastSeq} to ${event.seq}`);
    lastSeq = event.seq;
    count++;
    contentCrc = pushRow(rows, event, contentCrc);
    if (rows.seq.length === parquetRowGroupRows) writer.write({ columnData: columnsOf(takeRows(rows)), rowGroupSize: parquetRowGroupRows });
  }
  if (rows.seq.length > 0) writer.write({ columnData: columnsOf(takeRows(rows)), rowGroupSize: parquetRowGroupRows });
  // The footer is written by finish(), so the seq range known only now still reaches it.
  const kv = { 'mnemo.format': parquetFormatVersion, 'mnemo.payload': 'msgpack', 'mnemo.first_seq': String(firstSeq), 'mnemo.last_seq': String(lastSeq), 'mnemo.content_crc32': String(contentCrc) };
  for (const [key, value] of Object.entries(kv)) kvMetadata.push({ key, value });
  writer.finish();
  if (options.fsync !== false) fsyncFile(path);
  return { rows: count, firstSeq, lastSeq };
}

interface RowBuffer {
  seq: bigint[];
  ts: bigint[];
  type: string[];
  entityId: string[];
  payload: Uint8Array[];
}

function newRowBuffer(): RowBuffer {
  return { seq: [], ts: [], type: [], entityId: [], payload: [] };
}

/** Adds one event's row; returns the content CRC updated with it. */
function pushRow(rows: RowBuffer, event: StoredEvent, crc: number): number {
  const entityId = String((event.payload as { id?: unknown }).id ?? '');
  const payload = encodePayload(event.payload);
  rows.seq.push(BigInt(event.seq));
  rows.ts.push(BigInt(event.ts));
  rows.type.push(event.type);
  rows.entityId.push(entityId);
  rows.payload.push(payload);
  return rowCrc(crc, event.seq, event.ts, event.type, entityId, payload);
}

/** The content checksum's step for one row: its scalar columns as text, then the payload bytes. */
function rowCrc(crc: number, seq: number, ts: number, type: string, entityId: string, payload: Uint8Array | string): number {
  return crc32(payload, crc32(`${seq}\u0000${ts}\u0000${type}\u0000${entityId}\u0000`, crc));
}

function takeRows(rows: RowBuffer): RowBuffer {
  const taken = { ...rows };
  Object.assign(rows, newRowBuffer());
  return taken;
}

function columnsOf(rows: RowBuffer) {
  return [
    // Statistics only on seq: min/max seq per row group lets readers skip groups; on payload they cost time and say nothing.
    { name: 'seq', data: BigInt64Array.from(rows.seq), statistics: true },
    { name: 'ts', data: BigInt64Array.from(rows.ts) },
    { name: 'type', data: rows.type },
    { name: 'entity_id', data: rows.entityId },
    // Payloads are unique blobs: a dictionary would never pay off (measured: PLAIN writes ~1.3x faster).
    { name: 'payload', data: rows.payload, encoding: 'PLAIN' as const },
  ];
}

export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Column arrays of one Parquet file, decoded synchronously. */
export interface EventColumns {
  seq: number[];
  ts: number[];
  type: string[];
  entityId: string[];
  /** msgpack bytes; a string when another tool wrote the payload as a UTF8 (JSON) column. */
  payload: Array<Uint8Array | string>;
}

type ColumnName = 'seq' | 'ts' | 'type' | 'entity_id' | 'payload';

/** Footer metadata only (cheap): row count and mnemo's key-value metadata. */
export function readParquetFooter(bytes: Uint8Array, file: string): { rows: number; kv: Record<string, string>; metadata: FileMetaData } {
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch (e) {
    throw mnemoError('PARQUET_CORRUPT', { file, reason: `footer does not decode: ${(e as Error).message}` });
  }
  const kv: Record<string, string> = {};
  for (const { key, value } of metadata.key_value_metadata ?? []) if (value !== undefined) kv[key] = value;
  return { rows: Number(metadata.num_rows), kv, metadata };
}

/**
 * Decodes the named columns of a whole file. Synchronous: it drives hyparquet's page decoder over
 * the bytes in memory. Any decode failure or a column shorter than the row count is PARQUET_CORRUPT.
 */
export function readParquetColumns(bytes: Uint8Array, file: string, columns: readonly ColumnName[]): Partial<EventColumns> {
  const { metadata, rows } = readParquetFooter(bytes, file);
  const tree = parquetSchema(metadata);
  const out: Record<string, unknown[]> = {};
  for (const name of columns) out[name] = [];
  try {
    for (const group of metadata.row_groups) {
      for (const chunk of group.columns) {
        const meta = chunk.meta_data;
        if (meta === undefined) continue;
        const name = meta.path_in_schema[0] as ColumnName;
        if (!columns.includes(name)) continue;
        const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
        const length = Number(meta.total_compressed_size);
        if (start < 0 || start + length > bytes.byteLength) throw new Error(`column ${name} runs past the end of the file`);
        const schemaPath = getTreePath(tree, meta.path_in_schema);
        const decoder = { pathInSchema: meta.path_in_schema, element: schemaPath[schemaPath.length - 1]!.element, schemaPath, type: meta.type, codec: meta.codec, parsers: DEFAULT_PARSERS, utf8: false };
        const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + start, length), offset: 0 };
        const groupRows = Number(group.num_rows);
        const { data } = readColumn(reader, { groupStart: 0, selectStart: 0, selectEnd: groupRows, groupRows }, decoder);
        const target = out[name]!;
        for (const page of data) for (let i = 0; i < page.length; i++) target.push(page[i]);
      }
    }
  } catch (e) {
    throw mnemoError('PARQUET_CORRUPT', { file, reason: `does not decode: ${(e as Error).message}` });
  }
  for (const name of columns) {
    if (out[name]!.length !== rows) throw mnemoError('PARQUET_CORRUPT', { file, reason: `column ${name} has ${out[name]!.length} values for ${rows} rows` });
  }
  const result: Partial<EventColumns> = {};
  if (out.seq) result.seq = out.seq.map(Number);
  if (out.ts) result.ts = out.ts.map(Number);
  if (out.type) result.type = out.type as string[];
  if (out.entity_id) result.entityId = out.entity_id as string[];
  if (out.payload) result.payload = out.payload as Array<Uint8Array | string>;
  return result;
}

/** Compares the footer's content CRC with the decoded rows (files written by other tools have none: nothing to check). */
function checkContent(path: string, kv: Record<string, string>, columns: EventColumns): void {
  const expected = kv['mnemo.content_crc32'];
  if (expected === undefined) return;
  let crc = 0;
  for (let i = 0; i < columns.seq.length; i++) crc = rowCrc(crc, columns.seq[i]!, columns.ts[i]!, columns.type[i]!, columns.entityId[i]!, columns.payload[i]!);
  if (String(crc) !== expected) throw mnemoError('PARQUET_CORRUPT', { file: path, reason: `content checksum ${crc} differs from the footer's ${expected}` });
}

/** Every event of a file, in file order, decoded. Checks seqs are contiguous. */
export function readParquetEvents(path: string): StoredEvent[] {
  const bytes = readFileSync(path);
  const { kv } = readParquetFooter(bytes, path);
  const { seq, ts, type, entityId, payload } = readParquetColumns(bytes, path, ['seq', 'ts', 'type', 'entity_id', 'payload']) as EventColumns;
  checkContent(path, kv, { seq, ts, type, entityId, payload });
  const events: StoredEvent[] = new Array(seq.length);
  for (let i = 0; i < seq.length; i++) {
    if (i > 0 && seq[i] !== seq[i - 1]! + 1) throw mnemoError('PARQUET_CORRUPT', { file: path, reason: `seq jumps from ${seq[i - 1]} to ${seq[i]} at row ${i}` });
    let decoded: unknown;
    try {
      const cell = payload[i]!;
      decoded = typeof cell === 'string' ? JSON.parse(cell) : decodePayload(cell);
    } catch (e) {
      throw mnemoError('PARQUET_CORRUPT', { file: path, reason: `payload of row ${i} does not decode: ${(e as Error).message}` });
    }
    events[i] = { seq: seq[i]!, ts: ts[i]!, type: type[i]!, payload: decoded } as StoredEvent;
  }
  return events;
}

// ---- the Parquet directory ----

export const parquetDirName = 'parquet';
const parquetSuffix = '.parquet';
const tempSuffix = '.tmp';
/** 20 digits, like WAL segment names, so names sort like the seqs they hold. */
const seqDigits = 20;

export interface ParquetFileInfo {
  file: string;
  path: string;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
}

/** `<firstSeq>-<lastSeq>.parquet`: the name is the file's manifest (its seq range); the footer holds the row count. */
export function parquetFileName(firstSeq: number, lastSeq: number): string {
  return `${String(firstSeq).padStart(seqDigits, '0')}-${String(lastSeq).padStart(seqDigits, '0')}${parquetSuffix}`;
}

export function parseParquetFileName(name: string): { firstSeq: number; lastSeq: number } | null {
  const match = /^(\d{20})-(\d{20})\.parquet$/.exec(name);
  if (match === null) return null;
  const firstSeq = Number(match[1]);
  const lastSeq = Number(match[2]);
  return firstSeq >= 1 && lastSeq >= firstSeq && Number.isSafeInteger(lastSeq) ? { firstSeq, lastSeq } : null;
}

/** The Parquet files of `dir` by first seq (temp files excluded). */
export function listParquetFiles(dir: string): ParquetFileInfo[] {
  if (!existsSync(dir)) return [];
  const files: ParquetFileInfo[] = [];
  for (const file of readdirSync(dir)) {
    const range = parseParquetFileName(file);
    if (range !== null) files.push({ file, path: join(dir, file), ...range, bytes: statSync(join(dir, file)).size });
  }
  return files.sort((a, b) => a.firstSeq - b.firstSeq);
}

export function fsyncDir(dir: string): void {
  nodeFiles.fsyncDir(dir);
}

/**
 * Recovery of the Parquet directory at open, given the first seq the WAL still holds.
 * - A `*.tmp` file is an orphan of a compaction that crashed before its rename: removed (its
 *   segment was never deleted, so its events are still in the WAL).
 * - A Parquet file whose range reaches into the WAL is a duplicate left by a crash between the
 *   rename and the segment's deletion: the segment wins (it was never deleted, so it is whole) and
 *   the Parquet file is removed; the next compaction writes it again.
 * - What remains must chain from seq 1 to the WAL's first seq with no hole, or open refuses
 *   (PARQUET_CORRUPT): a missing file means lost events, never silently.
 */
export function recoverParquetDir(dir: string, walFirstSeq: number, warn: (message: string) => void): ParquetFileInfo[] {
  mkdirSync(dir, { recursive: true });
  let removed = 0;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(tempSuffix)) continue;
    unlinkSync(join(dir, file));
    removed++;
    warn(`removed ${join(dir, file)}, left by a compaction that did not finish (its events are still in the WAL)`);
  }
  const files: ParquetFileInfo[] = [];
  for (const info of listParquetFiles(dir)) {
    if (info.lastSeq >= walFirstSeq) {
      unlinkSync(info.path);
      removed++;
      warn(`removed ${info.path}: seqs ${info.firstSeq}..${info.lastSeq} are still in a WAL segment (a compaction stopped before deleting it)`);
    } else {
      files.push(info);
    }
  }
  if (removed > 0) fsyncDir(dir);
  let next = 1;
  for (const info of files) {
    if (info.firstSeq !== next) throw mnemoError('PARQUET_CORRUPT', { file: info.path, reason: `starts at seq ${info.firstSeq}, but the files before it end at seq ${next - 1}` });
    next = info.lastSeq + 1;
  }
  if (next !== walFirstSeq) {
    throw mnemoError('PARQUET_CORRUPT', { file: dir, reason: `Parquet files end at seq ${next - 1} and the WAL starts at seq ${walFirstSeq}: events ${next}..${walFirstSeq - 1} are in neither` });
  }
  return files;
}

// ---- one segment → one Parquet file (runs in the worker) ----

/** The steps of compacting one segment, in order; a crash can be injected after each (tests only). */
export const compactionSteps = ['temp-write', 'fsync', 'rename', 'dir-fsync', 'verify', 'segment-delete'] as const;
export type CompactionStep = (typeof compactionSteps)[number];

/** `MNEMO_CRASH_AT=compaction:<step>` kills the process right after that step (crash tests). */
export function crashStepFromEnv(): CompactionStep | undefined {
  const value = process.env.MNEMO_CRASH_AT;
  if (value === undefined || !value.startsWith('compaction:')) return undefined;
  const step = value.slice('compaction:'.length) as CompactionStep;
  assert(compactionSteps.includes(step), `MNEMO_CRASH_AT names no compaction step: ${value}`);
  return step;
}

export function crashPoint(step: CompactionStep, crashAt: CompactionStep | undefined): void {
  // SIGKILL, not exit: no handler, no flush, no finally runs — the closest a test gets to power loss.
  if (step === crashAt) process.kill(process.pid, 'SIGKILL');
}

export interface SegmentJob {
  segmentPath: string;
  segmentBytes: number;
  firstSeq: number;
  lastSeq: number;
  parquetDir: string;
  crashAt?: CompactionStep;
}

/**
 * Writes one sealed segment's events to `<parquetDir>/<first>-<last>.parquet`: temp name, fsync,
 * rename, directory fsync, then reads the file back and checks row count and seq range. Only after
 * this returns may the caller delete the segment.
 */
export function compactSegment(job: SegmentJob): ParquetFileInfo {
  const file = parquetFileName(job.firstSeq, job.lastSeq);
  const path = join(job.parquetDir, file);
  const temp = path + tempSuffix;
  rmSync(temp, { force: true });
  const events = (function* () {
    for (const { seq, event } of segmentEvents({ path: job.segmentPath, bytes: job.segmentBytes, firstSeq: job.firstSeq, lastSeq: job.lastSeq })) yield eventFromLog(seq, event);
  })();
  const written = writeEventsParquet(temp, events, { fsync: false });
  crashPoint('temp-write', job.crashAt);
  fsyncFile(temp);
  crashPoint('fsync', job.crashAt);
  renameSync(temp, path);
  crashPoint('rename', job.crashAt);
  fsyncDir(job.parquetDir);
  crashPoint('dir-fsync', job.crashAt);
  assert(written.firstSeq === job.firstSeq && written.lastSeq === job.lastSeq, `segment ${job.segmentPath} holds seqs ${written.firstSeq}..${written.lastSeq}, expected ${job.firstSeq}..${job.lastSeq}`);
  verifyParquetRange(path, job.firstSeq, job.lastSeq);
  crashPoint('verify', job.crashAt);
  return { file, path, firstSeq: job.firstSeq, lastSeq: job.lastSeq, bytes: statSync(path).size };
}

/** Reads the whole file back: every column decodes, the content CRC matches, and exactly lastSeq - firstSeq + 1 rows, contiguous from firstSeq. Throws PARQUET_CORRUPT. */
export function verifyParquetRange(path: string, firstSeq: number, lastSeq: number): void {
  const bytes = readFileSync(path);
  const columns = readParquetColumns(bytes, path, ['seq', 'ts', 'type', 'entity_id', 'payload']) as EventColumns;
  checkContent(path, readParquetFooter(bytes, path).kv, columns);
  const { seq } = columns;
  const expected = lastSeq - firstSeq + 1;
  if (seq.length !== expected) throw mnemoError('PARQUET_CORRUPT', { file: path, reason: `holds ${seq.length} rows, expected ${expected}` });
  for (let i = 0; i < seq.length; i++) {
    if (seq[i] !== firstSeq + i) throw mnemoError('PARQUET_CORRUPT', { file: path, reason: `row ${i} has seq ${seq[i]}, expected ${firstSeq + i}` });
  }
}

// ---- the compactor (main thread) ----

/** How often the engine looks for sealed segments to compact, in ms. A segment seals every 64 MiB, so a second is plenty. */
export const compactionPollMs = 1_000;

type WorkerReply = { ok: true; done: ParquetFileInfo } | { ok: false; error: string };

/** The compiled worker next to this module, or (under a TypeScript test runner) the one in dist/. */
function workerUrl(): URL | null {
  const here = new URL('./compaction-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = fileURLToPath(here).replace(/([\\/])src([\\/])engine([\\/])compaction-worker\.js$/, '$1dist$1src$2engine$3compaction-worker.js');
  return existsSync(built) ? new URL(`file://${built}`) : null;
}

/**
 * Compacts sealed segments, oldest first, one at a time, in a worker thread so that the event loop
 * (appends, reads) keeps its latency. After the worker has verified a file, the main thread adds it
 * to the catalog and only then deletes the segment: at every instant each event is in the WAL, in
 * Parquet, or in both.
 */
export class Compactor {
  readonly files: ParquetFileInfo[];
  private readonly wal: Wal;
  private readonly parquetDir: string;
  private readonly warn: (message: string) => void;
  private running: Promise<void> | null = null;
  private worker: Worker | null = null;
  private closing = false;
  private runs = 0;
  private segmentsCompacted = 0;
  private lastRunMs: number | null = null;
  private lastError: string | null = null;

  constructor(wal: Wal, parquetDir: string, files: ParquetFileInfo[], warn: (message: string) => void) {
    this.wal = wal;
    this.parquetDir = parquetDir;
    this.files = files;
    this.warn = warn;
  }

  /** The first seq not in Parquet. */
  get parquetEndSeq(): number {
    return (this.files[this.files.length - 1]?.lastSeq ?? 0) + 1;
  }

  /** Starts a background run if sealed segments wait and none is running. Failures are warned, and retried on the next kick. */
  kick(): void {
    if (this.running !== null || this.closing || this.wal.sealedSegments().length === 0) return;
    this.start().catch((e: unknown) => {
      this.lastError = (e as Error).message;
      this.warn(`compaction failed (the segments stay in the WAL, nothing is lost): ${this.lastError}`);
    });
  }

  /** Compacts every sealed segment there is now (after any run in progress) and resolves when done. */
  async compactAll(): Promise<void> {
    while (this.running !== null) await this.running.catch(() => {});
    if (this.wal.sealedSegments().length > 0) await this.start();
  }

  private start(): Promise<void> {
    const run = this.run().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async run(): Promise<void> {
    const started = performance.now();
    const crashAt = crashStepFromEnv();
    try {
      for (;;) {
        const segment = this.wal.sealedSegments()[0];
        if (segment === undefined || this.closing) break;
        const job: SegmentJob = { segmentPath: segment.path, segmentBytes: segment.bytes, firstSeq: segment.firstSeq, lastSeq: segment.lastSeq, parquetDir: this.parquetDir, crashAt };
        const done = await this.compactInWorker(job);
        if (this.closing) break; // the file stays; recovery at the next open sorts out the duplicate
        this.files.push(done);
        await this.wal.removeSegment(segment.path);
        crashPoint('segment-delete', crashAt);
        this.segmentsCompacted++;
      }
    } finally {
      this.stopWorker();
      this.runs++;
      this.lastRunMs = performance.now() - started;
    }
  }

  private compactInWorker(job: SegmentJob): Promise<ParquetFileInfo> {
    const url = workerUrl();
    if (url === null) return Promise.resolve(compactSegment(job)); // no compiled worker (a test without a build): same work, inline
    this.worker ??= new Worker(url);
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        cleanup();
        if (reply.ok) resolve(reply.done);
        else reject(new Error(reply.error));
      };
      const onError = (e: Error) => {
        cleanup();
        reject(e);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`compaction worker exited with code ${code}`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(job);
    });
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) void worker.terminate();
  }

  stats(): CompactionStats {
    return {
      parquetFiles: this.files.length,
      parquetRows: this.files.reduce((sum, f) => sum + f.lastSeq - f.firstSeq + 1, 0),
      parquetBytes: this.files.reduce((sum, f) => sum + f.bytes, 0),
      running: this.running !== null,
      runs: this.runs,
      segmentsCompacted: this.segmentsCompacted,
      lastRunMs: this.lastRunMs,
      lastError: this.lastError,
    };
  }

  /** Stops after the segment in progress (its worker is terminated; a half-written temp file is an orphan the next open removes). */
  async close(): Promise<void> {
    this.closing = true;
    this.stopWorker();
    if (this.running !== null) await this.running.catch(() => {});
  }
}

// ---- verify (mnemo verify) ----

export interface ParquetVerifyResult {
  ok: boolean;
  files: number;
  rows: number;
  problems: Array<{ file: string; reason: string }>;
}

/** Reads every Parquet file whole: footer, every column, every payload, seq range against the name, and the chain between files. */
export function verifyParquetDir(dir: string): ParquetVerifyResult {
  const result: ParquetVerifyResult = { ok: true, files: 0, rows: 0, problems: [] };
  let next = 1;
  for (const info of listParquetFiles(dir)) {
    result.files++;
    if (info.firstSeq !== next) result.problems.push({ file: info.path, reason: `starts at seq ${info.firstSeq}, but the files before it end at seq ${next - 1}` });
    next = info.lastSeq + 1;
    try {
      const events = readParquetEvents(info.path);
      result.rows += events.length;
      const first = events[0]?.seq;
      const last = events[events.length - 1]?.seq;
      if (first !== info.firstSeq || last !== info.lastSeq) result.problems.push({ file: info.path, reason: `holds seqs ${first}..${last}, its name says ${info.firstSeq}..${info.lastSeq}` });
    } catch (e) {
      result.problems.push({ file: info.path, reason: (e as Error).message });
    }
  }
  if (existsSync(dir)) {
    for (const file of readdirSync(dir)) if (file.endsWith(tempSuffix)) result.problems.push({ file: join(dir, file), reason: 'orphaned temp file of an unfinished compaction (open removes it)' });
  }
  result.ok = result.problems.length === 0;
  return result;
}
