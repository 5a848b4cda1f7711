// The synchronous Parquet reader the engine uses. mnemo's reads are synchronous (history(), getNode
// and neighbors with asOf, the replay at open), and hyparquet's public reader is async, so the
// decode runs in a worker thread (read-worker.ts) and this thread waits for its reply (synckit:
// Atomics.wait on a shared buffer, then receiveMessageOnPort). docs/on-disk.md has the measurement
// behind the choice.
import { createSyncFn } from 'synckit';

import { nodeFiles, type FileLayer } from '../storage/files.js';
import { compiledModule } from '../kernel/compiled.js';
import type { StoredEvent } from '../kernel/events.js';
import { decodeParquetFile, rowAt, type DecodedColumns, type DecodeReply } from './decode.js';
import { corrupt, eventOfRow } from './format.js';

/** Longest a decode may take before the read fails, in ms: a 64 MiB segment's file decodes in about a second. */
export const parquetDecodeTimeoutMs = 120_000;

export type { DecodedColumns };

let decodeSync: ((bytes: Uint8Array) => DecodeReply) | null = null;

function decoder(): (bytes: Uint8Array) => DecodeReply {
  if (decodeSync !== null) return decodeSync;
  const url = compiledModule(new URL('./read-worker.js', import.meta.url));
  // Sources run without a build (a TypeScript test runner with no dist/): the worker cannot start.
  if (url === null) throw new Error('the Parquet reader needs the compiled package (npm run build): read-worker.js is missing');
  decodeSync = createSyncFn<(bytes: Uint8Array) => Promise<DecodeReply>>(url, { timeout: parquetDecodeTimeoutMs });
  return decodeSync;
}

/** Every column of the file at `path`, decoded and checked (lengths, content checksum). Throws PARQUET_CORRUPT. */
export function readParquetColumns(path: string, files: FileLayer = nodeFiles): DecodedColumns {
  // Read here, through the FileLayer (the simulated disk of the power-loss tests is in this thread's memory); decoded there.
  const reply = decoder()(files.readFile(path));
  if (!reply.ok) throw corrupt(path, reply.reason);
  return reply.columns;
}

/** The event of row `i`; PARQUET_CORRUPT if its payload does not decode. */
export function eventAt(path: string, c: DecodedColumns, i: number): StoredEvent {
  try {
    return eventOfRow(rowAt(c, i, true));
  } catch (e) {
    throw corrupt(path, `payload of row ${i} does not decode: ${(e as Error).message}`);
  }
}

/** Every event of a file, in file order. Checks seqs are contiguous. */
export function readParquetEvents(path: string, files: FileLayer = nodeFiles): StoredEvent[] {
  const columns = readParquetColumns(path, files);
  const events: StoredEvent[] = new Array(columns.rows);
  for (let i = 0; i < columns.rows; i++) {
    if (i > 0 && columns.seq[i] !== columns.seq[i - 1]! + 1) throw corrupt(path, `seq jumps from ${columns.seq[i - 1]} to ${columns.seq[i]} at row ${i}`);
    events[i] = eventAt(path, columns, i);
  }
  return events;
}

/** Reads the whole file back: every column decodes, the content CRC matches, and exactly the rows firstSeq..lastSeq. Throws PARQUET_CORRUPT. */
export function verifyParquetRange(path: string, firstSeq: number, lastSeq: number, files: FileLayer = nodeFiles): void {
  checkSeqRange(path, readParquetColumns(path, files).seq, firstSeq, lastSeq);
}

/**
 * verifyParquetRange decoding in this thread, for a caller that can wait on a promise (compaction):
 * no reader thread is started. In the compaction worker that thread was a second one started and
 * ended a run, and the soak's RSS grew with the runs.
 */
export async function verifyParquetRangeHere(path: string, firstSeq: number, lastSeq: number, files: FileLayer = nodeFiles): Promise<void> {
  const reply = await decodeParquetFile(files.readFile(path));
  if (!reply.ok) throw corrupt(path, reply.reason);
  checkSeqRange(path, reply.columns.seq, firstSeq, lastSeq);
}

function checkSeqRange(path: string, seq: DecodedColumns['seq'], firstSeq: number, lastSeq: number): void {
  const expected = lastSeq - firstSeq + 1;
  if (seq.length !== expected) throw corrupt(path, `holds ${seq.length} rows, expected ${expected}`);
  for (let i = 0; i < seq.length; i++) if (seq[i] !== firstSeq + i) throw corrupt(path, `row ${i} has seq ${seq[i]}, expected ${firstSeq + i}`);
}
