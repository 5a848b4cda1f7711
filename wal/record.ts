// One WAL record frames one batch, so a batch is atomic across crashes: after a
// crash a record is either whole (both checksums pass) or it is not applied.
//
// Frame layout, little-endian (24-byte header, then the payload):
//   0..3   u32 payloadBytes
//   4..7   u32 eventCount
//   8..15  u64 firstSeq, as two u32 halves (low, high); seqs stay below 2^53
//   16..19 u32 headerCrc  = crc32(bytes 0..15): covers the length, so a flipped
//                           length bit is a bad header, never a "short record"
//   20..23 u32 payloadCrc = crc32(payload)
//   24..   payload: msgpack array of the batch's events (see wal.ts for the encoding)
// No magic number: an all-zero or garbage header fails headerCrc (crc32 of sixteen
// zero bytes is not zero), which is what a magic number would buy us.
import { crc32 } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { batchBytesMax, batchEventsMax } from '../src/kernel/limits.js';

export const headerBytes = 24;
/** headerCrc covers the fields before it. */
const headerCrcCoveredBytes = 16;
const twoTo32 = 0x1_0000_0000;

export interface FrameHeader {
  payloadBytes: number;
  eventCount: number;
  firstSeq: number;
  payloadCrc: number;
}

export function encodeHeader(firstSeq: number, eventCount: number, payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(headerBytes);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(eventCount, 4);
  header.writeUInt32LE(firstSeq % twoTo32, 8);
  header.writeUInt32LE(Math.floor(firstSeq / twoTo32), 12);
  header.writeUInt32LE(crc32(header.subarray(0, headerCrcCoveredBytes)), 16);
  header.writeUInt32LE(crc32(payload), 20);
  return header;
}

/** Header and payload as one buffer (tests and tools; the writer uses writev instead of copying). */
export function encodeFrame(firstSeq: number, eventCount: number, payload: Uint8Array): Buffer {
  return Buffer.concat([encodeHeader(firstSeq, eventCount, payload), payload]);
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function readHeader(buf: Uint8Array, offset: number): FrameHeader {
  const v = view(buf);
  return {
    payloadBytes: v.getUint32(offset, true),
    eventCount: v.getUint32(offset + 4, true),
    firstSeq: v.getUint32(offset + 8, true) + v.getUint32(offset + 12, true) * twoTo32,
    payloadCrc: v.getUint32(offset + 20, true),
  };
}

function storedHeaderCrc(buf: Uint8Array, offset: number): number {
  return view(buf).getUint32(offset + 16, true);
}

function headerCrcOk(buf: Uint8Array, offset: number): boolean {
  return crc32(buf.subarray(offset, offset + headerCrcCoveredBytes)) === storedHeaderCrc(buf, offset);
}

/** Sizes a writer could have produced. A header with a valid crc but other sizes is damage (or a bug). */
function headerSane(h: FrameHeader): boolean {
  return (
    h.payloadBytes >= 1 &&
    h.payloadBytes <= batchBytesMax &&
    h.eventCount >= 1 &&
    h.eventCount <= batchEventsMax &&
    h.firstSeq >= 1 &&
    h.firstSeq <= Number.MAX_SAFE_INTEGER
  );
}

export type FrameCheck =
  /** A whole record; the next one starts at `end`. */
  | { kind: 'ok'; header: FrameHeader; end: number }
  /** Exactly at the end of the data: no more records. */
  | { kind: 'end' }
  /** The record is cut short by the end of the data: an incomplete header, or a valid header whose payload runs past the end. */
  | { kind: 'short'; reason: string }
  /**
   * The bytes here are not a valid record. When exactly one flipped bit explains the
   * failure, `oneFlipEnd` is where that record ends (with the bit put back); else null.
   */
  | { kind: 'bad'; reason: string; oneFlipEnd: number | null; header?: FrameHeader };

/** Checks the record at `offset` of `buf` (which holds a segment's bytes from 0 to its end). */
export function checkFrame(buf: Uint8Array, offset: number): FrameCheck {
  const left = buf.length - offset;
  if (left === 0) return { kind: 'end' };
  if (left < headerBytes) return { kind: 'short', reason: `incomplete header (${left} of ${headerBytes} bytes)` };
  if (!headerCrcOk(buf, offset)) {
    return { kind: 'bad', reason: 'header checksum mismatch', oneFlipEnd: oneFlipHeaderEnd(buf, offset) };
  }
  const header = readHeader(buf, offset);
  if (!headerSane(header)) {
    return { kind: 'bad', reason: `impossible header (payloadBytes ${header.payloadBytes}, eventCount ${header.eventCount}, firstSeq ${header.firstSeq})`, oneFlipEnd: null, header };
  }
  const end = offset + headerBytes + header.payloadBytes;
  if (end > buf.length) return { kind: 'short', reason: `payload runs past the end (${end - buf.length} bytes missing)` };
  const payload = buf.subarray(offset + headerBytes, end);
  if (crc32(payload) !== header.payloadCrc) {
    return { kind: 'bad', reason: 'payload checksum mismatch', oneFlipEnd: singleBitFlip(payload, header.payloadCrc) === null ? null : end, header };
  }
  return { kind: 'ok', header, end };
}

export function payloadOf(buf: Uint8Array, offset: number, header: FrameHeader): Uint8Array {
  return buf.subarray(offset + headerBytes, offset + headerBytes + header.payloadBytes);
}

/** Reflected CRC-32 (IEEE) polynomial, as node:zlib's crc32 uses. */
const crcPolynomial = 0xedb88320;

/** Where one flipped bit would be: a bit of the data (byte index and bit mask), or the stored checksum itself. */
export type BitFlip = { in: 'data'; byte: number; mask: number } | { in: 'storedCrc' };

/**
 * Whether `data` with stored checksum `storedCrc` is exactly one flipped bit away
 * from a consistent pair, and where that bit is. CRC-32 is affine, so flipping one
 * bit changes the checksum by a value that depends only on the bit's distance from
 * the end: the polynomial for the very last bit processed (bit 7 of the last byte:
 * the reflected CRC takes each byte's bits lowest first), then one zero-bit
 * register step per position further back. We walk those values and compare.
 * Cost: 8 steps per byte, only on a failed record (about 0.3 s for a 16 MiB
 * payload). This is what lets recovery tell a flipped bit (media damage, refuse to
 * open) from a garbled unsynced tail (truncate).
 */
export function singleBitFlip(data: Uint8Array, storedCrc: number): BitFlip | null {
  const syndrome = (crc32(data) ^ storedCrc) >>> 0;
  if (syndrome === 0) return null;
  if ((syndrome & (syndrome - 1)) === 0) return { in: 'storedCrc' };
  let register = crcPolynomial;
  const steps = data.length * 8;
  for (let step = 0; step < steps; step++) {
    if (register === syndrome) return { in: 'data', byte: data.length - 1 - (step >> 3), mask: 1 << (7 - (step & 7)) };
    register = ((register >>> 1) ^ (register & 1 ? crcPolynomial : 0)) >>> 0;
  }
  return null;
}

/**
 * A header that fails its checksum is one flipped bit of a whole record only if,
 * with that bit put back, the header is sane, its payload fits in the data and the
 * payload checksum passes. (Checking the header alone is not enough: a garbled
 * tail can leave a header one bit off by chance, with garbage after it.)
 */
function oneFlipHeaderEnd(buf: Uint8Array, offset: number): number | null {
  const covered = buf.subarray(offset, offset + headerCrcCoveredBytes);
  const flip = singleBitFlip(covered, storedHeaderCrc(buf, offset));
  if (flip === null) return null;
  const fixed = buf.slice(offset, offset + headerBytes);
  if (flip.in === 'data') fixed[flip.byte]! ^= flip.mask;
  const header = readHeader(fixed, 0);
  const end = offset + headerBytes + header.payloadBytes;
  const whole = headerSane(header) && end <= buf.length && crc32(buf.subarray(offset + headerBytes, end)) === header.payloadCrc;
  return whole ? end : null;
}

/**
 * The offset of the first whole, valid record at or after `from` whose firstSeq is
 * at least `minSeq`, or -1. Used after a bad record to ask "does valid data follow?".
 * Cheap filters run before any checksum, so scanning a 64 MiB segment takes well under a second.
 */
export function findValidFrame(buf: Uint8Array, from: number, minSeq: number): number {
  const v = view(buf);
  for (let at = from; at + headerBytes <= buf.length; at++) {
    const payloadBytes = v.getUint32(at, true);
    if (payloadBytes < 1 || payloadBytes > batchBytesMax || at + headerBytes + payloadBytes > buf.length) continue;
    const eventCount = v.getUint32(at + 4, true);
    if (eventCount < 1 || eventCount > batchEventsMax) continue;
    if (!headerCrcOk(buf, at)) continue;
    const check = checkFrame(buf, at);
    if (check.kind === 'ok' && check.header.firstSeq >= minSeq) return at;
  }
  return -1;
}

// Payload encoding. A payload is one msgpack array of the batch's events; what an event is, the
// WAL does not know. The engine writes its payloads itself (src/event-codec.ts: plain msgpack, one
// positional array per event). `encodePayload` is the generic encoder for opaque values (the WAL's
// own tests and benches): msgpackr records (`useRecords: true`) with no shared `structures`, so
// every payload embeds its record definitions and decodes with a fresh decoder, as older engine
// logs did. `moreTypes: true` keeps typed arrays typed.
const packr = new Packr({ useRecords: true, moreTypes: true });
// `mapsAsObjects`: plain msgpack maps (the engine's own payload writer, src/event-codec.ts, writes
// those and no records) decode as objects, not as Maps.
const unpackr = new Unpackr({ useRecords: true, moreTypes: true, mapsAsObjects: true });

export function encodePayload(events: readonly unknown[]): Uint8Array {
  return packr.pack(events);
}

/** The events of one payload, or a string saying why it is not a msgpack array of `eventCount` items. */
export function decodePayload(payload: Uint8Array, eventCount: number): unknown[] | string {
  let events: unknown;
  try {
    events = unpackr.unpack(payload);
  } catch (e) {
    return `payload does not decode: ${(e as Error).message}`;
  }
  if (!Array.isArray(events)) return 'payload is not an array of events';
  if (events.length !== eventCount) return `payload holds ${events.length} events, header says ${eventCount}`;
  return events;
}
