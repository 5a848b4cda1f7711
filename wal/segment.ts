// One segment file: its name, and a scan of its records that classifies the first
// damage as a torn tail or as corruption.
import { join } from 'node:path';
import type { FileLayer } from '../src/storage/files.js';
import { checkFrame, findValidFrame, headerBytes } from './record.js';

export const segmentSuffix = '.wal';
/** Zero-padded so that names sort like the seqs they start at (20 digits hold any u64). */
const segmentNameDigits = 20;

export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(segmentNameDigits, '0')}${segmentSuffix}`;
}

export function parseSegmentName(name: string): number | null {
  const match = /^(\d{20})\.wal$/.exec(name);
  if (match === null) return null;
  const firstSeq = Number(match[1]);
  return Number.isSafeInteger(firstSeq) && firstSeq >= 1 ? firstSeq : null;
}

export interface SegmentFile {
  file: string;
  path: string;
  firstSeq: number;
}

/** The segment files of `dir`, by first seq. Files set aside by repair (`*.damaged-<ts>`) do not match. */
export function listSegments(files: FileLayer, dir: string): SegmentFile[] {
  const segments: SegmentFile[] = [];
  for (const file of files.list(dir)) {
    const firstSeq = parseSegmentName(file);
    if (firstSeq !== null) segments.push({ file, path: join(dir, file), firstSeq });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

export interface ScannedRecord {
  offset: number;
  firstSeq: number;
  eventCount: number;
  frameBytes: number;
}

export interface SegmentDamage {
  offset: number;
  reason: string;
  /**
   * 'torn': the data ends in an incomplete or garbled record with nothing valid after
   * it — what a crash or power cut leaves behind after the last fsync.
   * 'corrupt': anything else (see classifyBadRecord).
   */
  kind: 'torn' | 'corrupt';
}

export interface SegmentScan {
  records: ScannedRecord[];
  /** Bytes of whole, valid records from the start: where a repair or a torn-tail cut truncates to. */
  validBytes: number;
  /** The seq after the last valid record (= firstSeq of the segment when it has none). */
  nextSeq: number;
  damage?: SegmentDamage;
}

/**
 * Reads records from the start of `buf` while they are whole, valid and continue the
 * seq (`firstSeq` is the seq the segment must start at). Stops at the first damage.
 */
export function scanSegment(buf: Uint8Array, firstSeq: number): SegmentScan {
  const records: ScannedRecord[] = [];
  let offset = 0;
  let nextSeq = firstSeq;
  for (;;) {
    const check = checkFrame(buf, offset);
    if (check.kind === 'end') return { records, validBytes: offset, nextSeq };
    if (check.kind === 'short') return { records, validBytes: offset, nextSeq, damage: { offset, reason: check.reason, kind: 'torn' } };
    if (check.kind === 'bad') return { records, validBytes: offset, nextSeq, damage: classifyBadRecord(buf, offset, nextSeq, check.reason, check.oneFlipEnd) };
    if (check.header.firstSeq !== nextSeq) {
      // A whole, valid record with the wrong seq: never what a crash leaves behind.
      const reason = `record starts at seq ${check.header.firstSeq}, expected ${nextSeq}`;
      return { records, validBytes: offset, nextSeq, damage: { offset, reason, kind: 'corrupt' } };
    }
    records.push({ offset, firstSeq: nextSeq, eventCount: check.header.eventCount, frameBytes: check.end - offset });
    nextSeq += check.header.eventCount;
    offset = check.end;
  }
}

/**
 * A record that fails a checksum is corruption when
 *   - it is a whole record exactly one flipped bit away from valid, and the file
 *     ends right where it ends (media damage to an intact log: a crash tears or
 *     garbles whole sectors, it does not flip one bit of a complete last record), or
 *   - any whole, valid record with a later seq follows it in the file (the log went
 *     on after it; this catches a flipped bit in any record that is not the last);
 * otherwise it is a torn tail: damage from the bad record to the end of the file,
 * which only a write that was never fsynced, hence never acknowledged, can leave.
 */
function classifyBadRecord(buf: Uint8Array, offset: number, nextSeq: number, reason: string, oneFlipEnd: number | null): SegmentDamage {
  if (oneFlipEnd === buf.length) return { offset, reason: `${reason} (one flipped bit)`, kind: 'corrupt' };
  const following = findValidFrame(buf, offset + 1, nextSeq);
  if (following >= 0) return { offset, reason: `${reason}; a valid record follows at byte ${following}`, kind: 'corrupt' };
  return { offset, reason: `${reason}, and nothing valid follows`, kind: 'torn' };
}

