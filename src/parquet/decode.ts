// Decodes a Parquet event file into columns with hyparquet's public (async) reader, and checks it:
// every column as long as the row count says, and the footer's content checksum. Runs inside the
// reader worker (read-worker.ts); reader.ts gives the engine a synchronous call to it.
import { parquetMetadata, parquetRead, type FileMetaData } from 'hyparquet';

import { rowCrc } from './format.js';

/** The decoded columns of one file, in file order. Structured-cloneable (it crosses the worker boundary). */
export interface DecodedColumns {
  rows: number;
  kv: Record<string, string>;
  seq: Float64Array;
  ts: Float64Array;
  type: string[];
  entityId: string[];
  /** JSON text (format 2) or msgpack bytes (format 1). */
  payload: Array<string | Uint8Array>;
  /** Per row, the stored vector or null; all null in format 1 files (vectors are inside the payload). */
  vector: Array<Float32Array | null>;
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
  const columns = ['seq', 'ts', 'type', 'entity_id', 'payload', ...(names.has('vector') ? ['vector'] : [])];
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
  const flat = new Map<string, unknown[]>();
  for (const [name, parts] of chunks) {
    const values: unknown[] = [];
    for (const part of parts.sort((a, b) => a.rowStart - b.rowStart)) for (let i = 0; i < part.data.length; i++) values.push(part.data[i]);
    if (values.length !== rows) return { ok: false, reason: `column ${name} has ${values.length} values for ${rows} rows` };
    flat.set(name, values);
  }
  const decoded: DecodedColumns = {
    rows,
    kv: footer.kv,
    seq: Float64Array.from(flat.get('seq')!, Number),
    ts: Float64Array.from(flat.get('ts')!, Number),
    type: flat.get('type') as string[],
    entityId: flat.get('entity_id') as string[],
    payload: flat.get('payload') as Array<string | Uint8Array>,
    vector: (flat.get('vector') ?? new Array(rows).fill(null)).map((v) => (v === null || v === undefined ? null : Float32Array.from(v as number[]))),
  };
  const problem = checkContent(decoded);
  return problem === null ? { ok: true, columns: decoded } : { ok: false, reason: problem };
}

/** Compares the footer's content CRC with the decoded rows (files written by other tools have none: nothing to check). */
function checkContent(c: DecodedColumns): string | null {
  const expected = c.kv['mnemo.content_crc32'];
  if (expected === undefined) return null;
  let crc = 0;
  for (let i = 0; i < c.rows; i++) crc = rowCrc(crc, c.seq[i]!, c.ts[i]!, c.type[i]!, c.entityId[i]!, c.payload[i]!, c.vector[i]!);
  return String(crc) === expected ? null : `content checksum ${crc} differs from the footer's ${expected}`;
}
