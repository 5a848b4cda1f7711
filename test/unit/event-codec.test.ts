// The engine's WAL payload: each event type written and read back exactly, plain msgpack that another
// decoder reads, and logs written in the older record format still read.
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeEvents, eventFromLog } from '../../src/kernel/event-codec.js';
import type { RawEvent, StoredEvent } from '../../src/kernel/events.js';
import { decodePayload } from '../../wal/record.js';

const ts = 1_700_000_000_123;

/** Every number width the writer picks between, strings of each length form, nesting. */
const awkwardProperties = {
  small: 5, byte: 200, short: 60_000, mid: 100_000, word: 4_000_000_000, negTiny: -5, neg: -70_000, negBig: -3_000_000_000,
  big: 2 ** 40, max: Number.MAX_SAFE_INTEGER, fraction: 0.1, tiny: 5e-324, zero: 0,
  yes: true, no: false, nothing: null,
  ascii31: 'a'.repeat(31), ascii32: 'b'.repeat(32), str8: 'c'.repeat(255), str16: 'd'.repeat(256), str32: 'e'.repeat(70_000),
  unicode: 'Zoë ✓ 日本 🚀', unicodeLong: '✓'.repeat(40),
  nested: { list: [1, null, [true, 'x'], { deep: -1.5 }], wide: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) },
  longList: Array.from({ length: 70_000 }, (_, i) => i % 3),
  'needs quoting: ✓': 'key',
};

const events: RawEvent[] = [
  { type: 'prime.node.created', payload: { id: 'node:person:1', type: 'person', properties: awkwardProperties } },
  { type: 'prime.node.created', payload: { id: 'nöde:✓', type: 'place', properties: {} } },
  { type: 'prime.node.updated', payload: { id: 'node:person:1', properties: { name: 'Ada', gone: null } } },
  { type: 'prime.edge.created', payload: { id: 'edge:1', source: 'node:person:1', target: 'nöde:✓', relation: 'visits', weight: 0.25, properties: { since: 1999 } } },
  { type: 'prime.edge.created', payload: { id: 'edge:2', source: 'node:person:1', target: 'node:person:1', relation: 'self', weight: -3, properties: {} } },
  { type: 'prime.vector.stored', payload: { id: 'node:person:1', vector: Float32Array.from([0.25, -1, 3.5, 1e-7]), text: 'Ada', metadata: { source: 'wiki' } } },
  { type: 'prime.vector.stored', payload: { id: 'v:big', vector: Float32Array.from({ length: 100 }, (_, i) => i / 7) } },
  { type: 'prime.vector.stored', payload: { id: 'v:text', text: 'text only' } },
  { type: 'prime.vector.deleted', payload: { id: 'v:big' } },
  { type: 'prime.edge.deleted', payload: { id: 'edge:2' } },
  { type: 'prime.node.deleted', payload: { id: 'nöde:✓' } },
];

const firstSeq = 41;
const expected = events.map((event, i) => ({ seq: firstSeq + i, ts, ...event }) as StoredEvent);

function readBack(payload: Uint8Array, count: number): StoredEvent[] {
  const items = decodePayload(payload, count);
  if (typeof items === 'string') throw new Error(items);
  return items.map((item, i) => eventFromLog(firstSeq + i, item));
}

describe('WAL payload of events', () => {
  it('given every event type with awkward values, when encoded and read back, then each event is exactly the one logged', () => {
    const { payload } = encodeEvents(events, ts);
    const back = readBack(payload, events.length);
    expect(back).toEqual(expected);
    expect(back[5]!.payload).toHaveProperty('vector', expect.any(Float32Array));
    expect(Object.keys((back[0]!.payload as { properties: object }).properties)).toEqual(Object.keys(awkwardProperties));
  });

  it('given an encoded batch, when a plain msgpack decoder reads it, then it sees one positional array per event', () => {
    const { payload } = encodeEvents(events.slice(3, 5), ts);
    const plain = new Unpackr({ useRecords: false, mapsAsObjects: true });
    expect(plain.unpack(payload)).toEqual([
      [3, ts, 'edge:1', 'node:person:1', 'nöde:✓', 'visits', 0.25, { since: 1999 }],
      [3, ts, 'edge:2', 'node:person:1', 'node:person:1', 'self', -3, {}],
    ]);
  });

  it('given a batch with one large event, when encoded, then its size and index are reported for the one-event limit', () => {
    const batch: RawEvent[] = [events[1]!, events[0]!, events[2]!];
    const { payload, largestEventBytes, largestEventIndex } = encodeEvents(batch, ts);
    expect(largestEventIndex).toBe(1);
    const alone = encodeEvents([events[0]!], ts);
    expect(largestEventBytes).toBe(alone.payload.length - 1); // less the one-byte array header
    expect(payload.length).toBeGreaterThan(largestEventBytes);
  });

  it('given a payload that outgrows the scratch buffer, when the next batch is small, then both read back whole', () => {
    const huge: RawEvent = { type: 'prime.node.created', payload: { id: 'n:huge', type: 'blob', properties: { text: 'x'.repeat(3 << 20) } } };
    const first = encodeEvents([huge], ts).payload;
    const second = encodeEvents(events, ts).payload;
    expect(readBack(first, 1)[0]!.payload).toEqual(huge.payload);
    expect(readBack(second, events.length)).toEqual(expected);
  });

  it('given a payload in the older format (msgpackr records of whole events), when read back, then the events are the same', () => {
    const older = new Packr({ useRecords: true, moreTypes: true }).pack(expected);
    expect(readBack(older, expected.length)).toEqual(expected);
  });
});
