// Decodes a Parquet event file into columns with hyparquet's public (async) reader, and checks it:
// every column as long as the row count says, and the footer's content checksum. Runs inside the
// reader worker (read-worker.ts); reader.ts gives the engine a synchronous call to it.
import { parquetMetadata, parquetRead, type FileMetaData } from 'hyparquet';

import { rowCrc, type EventRow } from './format.js';

/**
 * The decoded columns of one file, in file order. Structured-cloneable (it crosses the worker
 * boundary), and cheap to clone: numbers and vectors travel as a few typed arrays, not one object a row.
 */
export interface DecodedColumns {
  rows: number;
  kv: Record<string, string>;
  seq: Float64Array;
  ts: Float64Array;
  type: string[];
  entityId: string[];
  /** JSON text (format 2) or msgpack bytes (format 1). */
  payload: Array<string | Uint8Array>;
  /** Every stored vector's values, back to back; row i's are vectorValues[vectorStart[i] .. vectorStart[i + 1]). */
  vectorValues: Float32Array;
  vectorStart: Int32Array;
  /** 1 where the row has a vector (a row may store an empty one only in principle: mnemo rejects those). Format 1 rows never do: their vectors are inside the payload. */
  hasVector: Uint8Array;
  /** Format 3: replicated mode's envelope, null on local events; all null in older files. */
  origin: Array<string | null>;
  hlc: Array<string | null>;
}

export type DecodeReply = { ok: true; columns: DecodedColumns } | { ok: false; reason: string };

export function footerOf(buffer: ArrayBuffer): { metadata: FileMetaData; kv: Record<string, string> } {
  const metadata = parquetMetadata(buffer);
  const kv: Record<string, string> = {};
  for (const { key, value } of metadata.key_value_metadata ?? []) if (value !== undefined) kv[key] = value;
  return { metadata, kv };
}

/** Decodes and checks a whole file's bytes; a reply, never a throw, so the reason reaches the caller whole. */
export async function decodeParquetFile(bytes: Uint8Array): Promise<DecodeReply> {
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  let footer: ReturnType<typeof footerOf>;
  try {
    footer = footerOf(buffer);
  } catch (e) {
    return { ok: false, reason: `footer does not decode: ${(e as Error).message}` };
  }
  const rows = Number(footer.metadata.num_rows);
  const names = new Set(footer.metadata.schema.map((s) => s.name));
  const columns = ['seq', 'ts', 'type', 'entity_id', 'payload', ...['vector', 'origin', 'hlc'].filter((c) => names.has(c))];
  const chunks = new Map<string, Array<{ rowStart: number; data: ArrayLike<unknown> }>>(columns.map((c) => [c, []]));
  try {
    await parquetRead({
      file: buffer,
      metadata: footer.metadata,
      columns,
      // Unannotated BYTE_ARRAY (format 1's msgpack payload) stays bytes; STRING columns still decode to strings.
      utf8: false,
      onChunk: ({ columnName, columnData, rowStart }) => chunks.get(columnName)?.push({ rowStart, data: columnData }),
    });
  } catch (e) {
    return { ok: false, reason: `does not decode: ${(e as Error).message}` };
  }
  const decoded: DecodedColumns = {
    rows,
    kv: footer.kv,
    seq: new Float64Array(rows),
    ts: new Float64Array(rows),
    type: new Array<string>(rows),
    entityId: new Array<string>(rows),
    payload: new Array<string | Uint8Array>(rows),
    vectorValues: new Float32Array(0),
    vectorStart: new Int32Array(rows + 1),
    hasVector: new Uint8Array(rows),
    origin: new Array<string | null>(rows).fill(null),
    hlc: new Array<string | null>(rows).fill(null),
  };
  const vectors: Array<ArrayLike<number> | null | undefined> = new Array(rows);
  const targets: Record<string, { set: (at: number, value: unknown) => void }> = {
    seq: { set: (at, v) => (decoded.seq[at] = Number(v)) },
    ts: { set: (at, v) => (decoded.ts[at] = Number(v)) },
    type: { set: (at, v) => (decoded.type[at] = v as string) },
    entity_id: { set: (at, v) => (decoded.entityId[at] = v as string) },
    payload: { set: (at, v) => (decoded.payload[at] = v as string | Uint8Array) },
    vector: { set: (at, v) => (vectors[at] = v as ArrayLike<number> | null) },
    origin: { set: (at, v) => (decoded.origin[at] = (v as string | null | undefined) ?? null) },
    hlc: { set: (at, v) => (decoded.hlc[at] = (v as string | null | undefined) ?? null) },
  };
  for (const [name, parts] of chunks) {
    const target = targets[name]!;
    let filled = 0;
    for (const part of parts) {
      if (part.rowStart < 0 || part.rowStart + part.data.length > rows) return { ok: false, reason: `column ${name} has rows past the ${rows} the footer counts` };
      for (let i = 0; i < part.data.length; i++) target.set(part.rowStart + i, part.data[i]);
      filled += part.data.length;
    }
    if (filled !== rows) return { ok: false, reason: `column ${name} has ${filled} values for ${rows} rows` };
  }
  let floats = 0;
  for (let i = 0; i < rows; i++) floats += vectors[i]?.length ?? 0;
  decoded.vectorValues = new Float32Array(floats);
  let at = 0;
  for (let i = 0; i < rows; i++) {
    decoded.vectorStart[i] = at;
    const vector = vectors[i];
    if (vector === null || vector === undefined) continue;
    decoded.hasVector[i] = 1;
    decoded.vectorValues.set(vector, at);
    at += vector.length;
  }
  decoded.vectorStart[rows] = at;
  const problem = checkContent(decoded);
  return problem === null ? { ok: true, columns: decoded } : { ok: false, reason: problem };
}

/** Compares the footer's content CRC with the decoded rows (files written by other tools have none: nothing to check). */
function checkContent(c: DecodedColumns): string | null {
  const expected = c.kv['mnemo.content_crc32'];
  if (expected === undefined) return null;
  let crc = 0;
  for (let i = 0; i < c.rows; i++) crc = rowCrc(crc, rowAt(c, i, false));
  return String(crc) === expected ? null : `content checksum ${crc} differs from the footer's ${expected}`;
}

/** Row i as the row codec takes it; its vector a copy (`copy`) or a view. */
export function rowAt(c: DecodedColumns, i: number, copy: boolean): EventRow {
  return { seq: c.seq[i]!, ts: c.ts[i]!, type: c.type[i]!, entityId: c.entityId[i]!, payload: c.payload[i]!, vector: vectorOf(c, i, copy), origin: c.origin[i]!, hlc: c.hlc[i]! };
}

/** Row i's vector: a copy (`copy`, so each event owns its vector, as from the WAL) or a view, or null. */
export function vectorOf(c: DecodedColumns, i: number, copy: boolean): Float32Array | null {
  if (c.hasVector[i] !== 1) return null;
  const start = c.vectorStart[i]!;
  const end = c.vectorStart[i + 1]!;
  return copy ? c.vectorValues.slice(start, end) : c.vectorValues.subarray(start, end);
}
