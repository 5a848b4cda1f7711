// The frame: header fields where the layout says, both checksums, the payload codec.
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkFrame, decodePayload, encodeFrame, encodePayload, headerBytes, payloadOf, readHeader, singleBitFlip } from '../../wal/record.js';

const events = [
  { type: 'prime.node.created', payload: { id: 'node:person:1', type: 'person', properties: { name: 'Ada', tags: ['a', 'b'], score: 0.5 } }, seq: 41, ts: 1_700_000_000_000 },
  { type: 'prime.vector.stored', payload: { id: 'node:person:1', vector: [0.25, -1, 3.5], text: 'Ada' }, seq: 42, ts: 1_700_000_000_001 },
];

describe('WAL record', () => {
  it('given events, when framed and read back, then the events and header fields round-trip', () => {
    const payload = encodePayload(events);
    const frame = encodeFrame(41, 2, payload);
    const check = checkFrame(frame, 0);
    expect(check.kind).toBe('ok');
    if (check.kind !== 'ok') return;
    expect(check.end).toBe(frame.length);
    expect(check.header).toEqual({ payloadBytes: payload.length, eventCount: 2, firstSeq: 41, payloadCrc: crc32(payload) });
    expect(decodePayload(payloadOf(frame, 0, check.header), 2)).toEqual(events);
  });

  it('given a frame, when its bytes are read raw, then the layout is little-endian length, count, seq, header crc, payload crc', () => {
    const payload = encodePayload([{ a: 1 }]);
    const firstSeq = 2 ** 40 + 7; // needs both halves of the u64
    const frame = encodeFrame(firstSeq, 1, payload);
    expect(frame.readUInt32LE(0)).toBe(payload.length);
    expect(frame.readUInt32LE(4)).toBe(1);
    expect(frame.readUInt32LE(8) + frame.readUInt32LE(12) * 2 ** 32).toBe(firstSeq);
    expect(frame.readUInt32LE(16)).toBe(crc32(frame.subarray(0, 16)));
    expect(frame.readUInt32LE(20)).toBe(crc32(payload));
    expect(frame.length).toBe(headerBytes + payload.length);
    expect(readHeader(frame, 0).firstSeq).toBe(firstSeq);
  });

  it('given many payloads from one encoder, when any single one is decoded by a fresh decoder, then it decodes (no shared structures)', async () => {
    const payloads = Array.from({ length: 50 }, (_, i) => encodePayload([{ type: 'prime.node.updated', payload: { id: `n${i}`, properties: { i } } }]));
    const { Unpackr } = await import('msgpackr');
    for (const [i, payload] of payloads.entries()) {
      expect(new Unpackr({ useRecords: true }).unpack(payload)).toEqual([{ type: 'prime.node.updated', payload: { id: `n${i}`, properties: { i } } }]);
    }
  });

  it('given a payload that is not the header count, when decoded, then it says why', () => {
    expect(decodePayload(encodePayload([1, 2]), 3)).toBe('payload holds 2 events, header says 3');
    expect(decodePayload(encodePayload({ a: 1 } as unknown as unknown[]), 1)).toBe('payload is not an array of events');
  });

  it('given data with each single bit flipped, when its crc is checked, then the flipped bit is located; two flipped bits are not one', () => {
    const data = encodePayload(events);
    const stored = crc32(data);
    for (let bit = 0; bit < data.length * 8; bit++) {
      const flipped = Buffer.from(data);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(singleBitFlip(flipped, stored)).toEqual({ in: 'data', byte: bit >> 3, mask: 1 << (bit & 7) });
      const twice = Buffer.from(flipped);
      twice[(bit >> 3) === 0 ? 1 : 0]! ^= 0x01;
      expect(singleBitFlip(twice, stored)).toBeNull();
    }
    expect(singleBitFlip(data, stored ^ 0x0100)).toEqual({ in: 'storedCrc' });
    expect(singleBitFlip(data, stored)).toBeNull();
  });

  it('given zeroed bytes where a header should be, when checked, then it is a bad header, not one bit off a record', () => {
    expect(checkFrame(new Uint8Array(64), 0)).toMatchObject({ kind: 'bad', oneFlipEnd: null });
    expect(checkFrame(new Uint8Array(10), 0)).toMatchObject({ kind: 'short' });
    expect(checkFrame(new Uint8Array(0), 0)).toEqual({ kind: 'end' });
  });
});
