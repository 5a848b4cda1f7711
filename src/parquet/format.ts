// The Parquet format of compacted and exported events: the schema, the file names, and the row
// codec (event ↔ row, and the content checksum). docs/on-disk.md describes it for other readers.
//
// Format 3 (written now), one row per event:
//   seq        INT64 REQUIRED               the event's seq
//   ts         INT64 REQUIRED               ms since the Unix epoch (plain INT64, not a TIMESTAMP, so
//                                           every reader gives back the integer the envelope holds)
//   type       STRING REQUIRED              e.g. 'prime.node.created'
//   entity_id  STRING REQUIRED              payload.id: the node, edge or vector the event is about
//   payload    STRING REQUIRED              the payload as JSON text, without its vector
//   vector     LIST<FLOAT> OPTIONAL         a stored vector's float32 values; null on every other row
//   origin     STRING OPTIONAL              replicated mode: the writer's origin; null otherwise
//   hlc        STRING OPTIONAL              replicated mode: the writer's hybrid logical clock; null otherwise
// Why JSON text and a FLOAT list: any Parquet tool reads them without a msgpack decoder (DuckDB's
// json_extract_string works on the payload column), and float32 values in a FLOAT column come back
// exactly, so a replay from Parquet equals one from the WAL bit for bit.
//
// Format 2 (older files, still read): the same without origin and hlc. A replay merges replicated
// events by their hlc, so a format 2 file of replicated events replays them literally instead.
// Format 1 (older files, still read): the same first four columns and a payload BYTE_ARRAY holding
// msgpack (msgpackr, useRecords false, moreTypes true), vectors inside it as float32.
//
// Key-value metadata: mnemo.format, mnemo.payload (json | msgpack), mnemo.first_seq, mnemo.last_seq,
// and mnemo.content_crc32: a CRC-32 over every row's values. Parquet pages carry no checksum by
// default and a flipped bit inside a compressed page can still decode, so this catches damage on read.
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import type { SchemaElement } from 'hyparquet';

import { nodeFiles, type FileLayer } from '../storage/files.js';
import { mnemoError } from '../kernel/errors.js';
import type { StoredEvent, VectorStored } from '../kernel/events.js';

export const parquetFormatVersion = '3';
/** Rows per row group: a group is the unit a reader decodes at once; 100K rows is ~15 MiB with vectors. */
export const parquetRowGroupRows = 100_000;

export const eventSchema: SchemaElement[] = [
  { name: 'root', num_children: 8 },
  { name: 'seq', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'ts', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'type', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' },
  { name: 'entity_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' },
  { name: 'payload', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' },
  // The three-level LIST layout the Parquet spec prescribes, so every reader maps it to a list of floats.
  { name: 'vector', repetition_type: 'OPTIONAL', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
  { name: 'origin', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' },
  { name: 'hlc', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' },
];

export const eventColumnNames = ['seq', 'ts', 'type', 'entity_id', 'payload', 'vector', 'origin', 'hlc'] as const;

// ---- the row codec ----

/** One event as the columns hold it. */
export interface EventRow {
  seq: number;
  ts: number;
  type: string;
  entityId: string;
  /** JSON text (format 2) or msgpack bytes (format 1). */
  payload: string | Uint8Array;
  vector: Float32Array | null;
  /** Replicated mode's envelope (format 3); null on a local event and in older files. */
  origin: string | null;
  hlc: string | null;
}

export function rowOf(event: StoredEvent): EventRow {
  const payload = event.payload as { id?: unknown; vector?: number[] | Float32Array };
  let vector: Float32Array | null = null;
  let rest: object = payload;
  if (payload.vector !== undefined) {
    vector = payload.vector instanceof Float32Array ? payload.vector : Float32Array.from(payload.vector);
    const { vector: _vector, ...others } = payload;
    rest = others;
  }
  return { seq: event.seq, ts: event.ts, type: event.type, entityId: String(payload.id ?? ''), payload: JSON.stringify(rest), vector, origin: event.origin ?? null, hlc: event.hlc ?? null };
}

const msgpack = new Unpackr({ useRecords: false, moreTypes: true });

/**
 * The event a row holds. Its payload has the key order the WAL's decoder gives (for a stored
 * vector: id, vector, text, metadata), so projections see the same objects from either source.
 */
export function eventOfRow(row: EventRow): StoredEvent {
  const parsed = (typeof row.payload === 'string' ? JSON.parse(row.payload) : msgpack.unpack(row.payload)) as Record<string, unknown>;
  let event: StoredEvent;
  if (row.type !== 'prime.vector.stored') event = { seq: row.seq, ts: row.ts, type: row.type, payload: parsed } as unknown as StoredEvent;
  else {
    const payload: VectorStored = { id: parsed.id as string };
    const vector = row.vector ?? (parsed.vector as Float32Array | undefined);
    if (vector !== undefined && vector !== null) payload.vector = vector;
    if (parsed.text !== undefined) payload.text = parsed.text as string;
    if (parsed.metadata !== undefined) payload.metadata = parsed.metadata as VectorStored['metadata'];
    event = { seq: row.seq, ts: row.ts, type: 'prime.vector.stored', payload };
  }
  // The WAL decoder's key order: hlc, then origin.
  if (row.hlc !== null) event.hlc = row.hlc;
  if (row.origin !== null) event.origin = row.origin;
  return event;
}

/**
 * The content checksum's step for one row: its scalar columns as text, then the payload, then the
 * vector's bytes, then (format 3, on a replicated event) origin and hlc; a row without them sums as
 * in format 2.
 */
export function rowCrc(crc: number, row: EventRow): number {
  const withPayload = crc32(row.payload, crc32(`${row.seq}\u0000${row.ts}\u0000${row.type}\u0000${row.entityId}\u0000`, crc));
  const vector = row.vector;
  const withVector = vector === null ? withPayload : crc32(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), withPayload);
  return row.origin === null && row.hlc === null ? withVector : crc32(`\u0000${row.origin ?? ''}\u0000${row.hlc ?? ''}`, withVector);
}

// ---- file names ----

export const parquetDirName = 'parquet';
export const parquetSuffix = '.parquet';
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

/** The Parquet files of `dir` by first seq (temp files excluded); none when the directory does not exist. */
export function listParquetFiles(dir: string, files: FileLayer = nodeFiles): ParquetFileInfo[] {
  const out: ParquetFileInfo[] = [];
  for (const file of listOrNone(dir, files)) {
    const range = parseParquetFileName(file);
    if (range !== null) out.push({ file, path: join(dir, file), ...range, bytes: files.size(join(dir, file)) });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export function listOrNone(dir: string, files: FileLayer): string[] {
  try {
    return files.list(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export function corrupt(file: string, reason: string): Error {
  return mnemoError('PARQUET_CORRUPT', { file, reason });
}
