// Seqs a repair gave up: the ranges of damaged or missing Parquet files whose WAL segments were
// already deleted, so their events exist nowhere else. Kept in `<dataDir>/parquet/lost.json`
// (written atomically), so that every later open, verify and read knows the hole is known and
// accepted, not new damage:
//   { "lost": [{ "firstSeq", "lastSeq", "file", "movedTo", "reason", "at" }] }
// `movedTo` is where the damaged file was set aside (null when the file was missing); `at` is the
// repair's time in ms since the epoch.

import { join } from 'node:path';

import { isMnemoError, mnemoError } from '../kernel/errors.js';
import { prepareBatch, type PrepareOptions, type StateView, type StoredEvent } from '../kernel/events.js';
import { replaceAtomically } from '../storage/atomic.js';
import { nodeFiles, type FileLayer } from '../storage/files.js';

export const lostSeqsFile = 'lost.json';

export interface LostSeqs {
  firstSeq: number;
  lastSeq: number;
  file: string;
  movedTo: string | null;
  reason: string;
  at: number;
}

/** The recorded lost ranges of a Parquet directory, by first seq; none when nothing was ever lost. */
export function readLostSeqs(parquetDir: string, files: FileLayer = nodeFiles): LostSeqs[] {
  const path = join(parquetDir, lostSeqsFile);
  if (!files.exists(path)) return [];
  let lost: unknown;
  try {
    lost = (JSON.parse(Buffer.from(files.readFile(path)).toString('utf8')) as { lost?: unknown }).lost;
  } catch (e) {
    throw mnemoError('PARQUET_CORRUPT', { file: path, reason: `not JSON: ${(e as Error).message}` });
  }
  const valid = (r: Partial<LostSeqs>) => Number.isSafeInteger(r.firstSeq) && Number.isSafeInteger(r.lastSeq) && r.firstSeq! >= 1 && r.lastSeq! >= r.firstSeq!;
  if (!Array.isArray(lost) || !lost.every((r) => typeof r === 'object' && r !== null && valid(r as Partial<LostSeqs>))) {
    throw mnemoError('PARQUET_CORRUPT', { file: path, reason: "expected { lost: [{ firstSeq, lastSeq, … }] } with 1 ≤ firstSeq ≤ lastSeq" });
  }
  return (lost as LostSeqs[]).slice().sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Adds `ranges` to the record, durably. */
export function recordLostSeqs(parquetDir: string, ranges: readonly LostSeqs[], files: FileLayer = nodeFiles): LostSeqs[] {
  const all = [...readLostSeqs(parquetDir, files), ...ranges].sort((a, b) => a.firstSeq - b.firstSeq);
  replaceAtomically(join(parquetDir, lostSeqsFile), [Buffer.from(JSON.stringify({ lost: all }, null, 1))], files);
  return all;
}

/** The first seq at or after `seq` that is not lost. */
export function pastLost(seq: number, lost: readonly LostSeqs[]): number {
  let next = seq;
  for (const range of lost) if (range.firstSeq <= next && next <= range.lastSeq) next = range.lastSeq + 1;
  return next;
}

/** `a..b` (or `a` when one seq). */
export function seqRange(firstSeq: number, lastSeq: number): string {
  return firstSeq === lastSeq ? `${firstSeq}` : `${firstSeq}..${lastSeq}`;
}

/**
 * For a replay past lost seqs: whether `event` is still valid against the state `view` shows,
 * checked as an append would be (an update of a node created in the lost seqs is not). Received
 * events (replicated mode, with an `hlc`) go to the merge, which judges existence itself.
 * `forget` drops what the check made node-state remember.
 */
export function stillApplies(event: StoredEvent, view: StateView, forget: () => void, options: PrepareOptions = {}): boolean {
  if (event.hlc !== undefined) return true;
  try {
    return prepareBatch([{ type: event.type, payload: event.payload }], view, options).length === 1;
  } catch (e) {
    if (!isMnemoError(e)) throw e;
    return false;
  } finally {
    forget();
  }
}
