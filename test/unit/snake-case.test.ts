// HTTP JSON: given node records built fresh on each read, when serialised, then the cached JSON of
// a node's version is reused only for that very node and version, never for a record with more fields.
import { describe, expect, it } from 'vitest';
import { snakeJsonInto, stringJson, toSnakeCase, toSnakeJson } from '../../src/kernel/wire.js';
import { similarRows } from '../../src/kernel/prime-wire.js';

const record = (id: string, version: number, properties: Record<string, unknown>) => ({ id, type: 'person', domain: 'person', properties, createdAt: 1, updatedAt: version, version });

describe('toSnakeJson', () => {
  it('given fresh records of one node version, when serialised twice, then both give the same snake_case JSON', () => {
    const properties = { firstName: 'Ada' };
    const first = JSON.parse(toSnakeJson(record('a', 3, properties)));
    // Prime's shape: RFC 3339 times and labels, mnemo's epoch ms beside them.
    expect(first).toEqual({
      id: 'a',
      type: 'person',
      domain: 'person',
      labels: [],
      properties: { firstName: 'Ada' },
      created_at: '1970-01-01T00:00:00.001Z',
      updated_at: '1970-01-01T00:00:00.003Z',
      created_at_ms: 1,
      updated_at_ms: 3,
      version: 3,
    });
    expect(JSON.parse(toSnakeJson(record('a', 3, properties)))).toEqual(first);
  });

  it('given a record whose properties object was seen with another version or id, when serialised, then its own fields are written', () => {
    const properties = { name: 'Ada' };
    toSnakeJson(record('a', 3, properties));
    expect(JSON.parse(toSnakeJson(record('a', 4, properties)))).toMatchObject({ version: 4, updated_at_ms: 4 });
    expect(JSON.parse(toSnakeJson(record('b', 4, properties)))).toMatchObject({ id: 'b' });
  });

  it('given a neighbour with its depth, when serialised after the plain record, then the depth is there', () => {
    const properties = { name: 'Ada' };
    toSnakeJson(record('a', 3, properties));
    expect(JSON.parse(toSnakeJson([{ ...record('a', 3, properties), depth: 2 }]))).toEqual([expect.objectContaining({ id: 'a', depth: 2 })]);
  });

  it('given nodes sharing the frozen empty properties, when serialised, then each has its own id', () => {
    const empty = Object.freeze({});
    expect(JSON.parse(toSnakeJson(record('a', 1, empty))).id).toBe('a');
    expect(JSON.parse(toSnakeJson(record('b', 1, empty))).id).toBe('b');
  });

  it('given vector search hits (with and without text, odd ids and scores), when serialised, then the rows are the JSON of their fields', () => {
    const hits = [
      { id: 'node:"quoted"\\é', score: 0.5010694265365601, text: 'line\nbreak "quoted"' },
      { id: 'b', score: -0 },
      { id: 'c', score: Number.NaN },
      { id: 'd', score: 1e-7, text: '' },
    ];
    const rows = similarRows(hits);
    const json = toSnakeJson({ results: rows });
    expect(JSON.parse(json)).toEqual({
      results: [
        { id: 'node:"quoted"\\é', score: 0.5010694265365601, text: 'line\nbreak "quoted"' },
        { id: 'b', score: 0, text: null },
        { id: 'c', score: null, text: null },
        { id: 'd', score: 1e-7, text: '' },
      ],
    });
    // The same text JSON.stringify gives for the rows as plain data.
    expect(json).toBe(JSON.stringify(toSnakeCase({ results: rows })));
  });
});

describe('stringJson', () => {
  it('given strings with and without characters JSON escapes, when quoted, then each is exactly what JSON.stringify writes', () => {
    const strings = ['', 'node:bench:42', 'é and 中文', 'a"b', 'a\\b', 'tab\there', '\u0000', '\u001f', '\u007f', 'pair 😀', 'lone \ud800', 'lone \udfff end', '\u2028'];
    for (const text of strings) expect(stringJson(text)).toBe(JSON.stringify(text));
    // Every UTF-16 unit, alone and between plain characters.
    for (let c = 0; c < 0x10000; c++) {
      const text = `a${String.fromCharCode(c)}b`;
      if (stringJson(text) !== JSON.stringify(text)) expect.fail(`U+${c.toString(16)}: ${stringJson(text)} against ${JSON.stringify(text)}`);
    }
  });
});

describe('snakeJsonInto', () => {
  const page = (properties: Record<string, unknown>) => ({
    nodes: [record('a', 1, properties), { ...record('b', 2, { name: 'Zoë ✓' }), depth: 2 }, record('c', 1, Object.freeze({}))],
    total: 3,
    nextOffset: undefined,
    results: similarRows([{ id: 'a', score: 0.25, text: 'ünïcode' }]),
  });
  const text = (answer: Buffer | string): string => (typeof answer === 'string' ? answer : answer.toString('utf8'));

  it('given a page of nodes (cached, with extra keys, uncached) and rows, when written into a buffer, then the bytes are toSnakeJson in UTF-8', () => {
    const value = page({ name: 'Ada' });
    const expected = toSnakeJson(value);
    const answer = snakeJsonInto(value, Buffer.alloc(4096));
    expect(Buffer.isBuffer(answer)).toBe(true);
    expect(text(answer)).toBe(expected);
    // Again, now from the nodes' cached bytes.
    expect(text(snakeJsonInto(value, Buffer.alloc(4096)))).toBe(expected);
  });

  it('given an answer larger than the buffer, when written, then it comes back whole as a string, wherever the buffer ran out', () => {
    const value = page({ name: 'Ada', bio: 'x'.repeat(300) });
    const expected = toSnakeJson(value);
    const full = Buffer.byteLength(expected);
    for (let size = 0; size < full; size += 7) {
      const answer = snakeJsonInto(value, Buffer.alloc(size));
      expect(typeof answer, `buffer of ${size} bytes`).toBe('string');
      expect(answer).toBe(expected);
    }
    expect(text(snakeJsonInto(value, Buffer.alloc(full)))).toBe(expected);
  });

  it('given a node whose version changed, when written again, then the new version is written, not the cached bytes', () => {
    const properties = { name: 'Ada' };
    const buffer = Buffer.alloc(4096);
    expect(JSON.parse(text(snakeJsonInto([record('a', 3, properties)], buffer)))[0].version).toBe(3);
    expect(JSON.parse(text(snakeJsonInto([record('a', 4, properties)], buffer)))[0]).toMatchObject({ version: 4, updated_at_ms: 4 });
  });

  it('given plain values (numbers, strings, null, nested objects), when written, then the bytes are toSnakeJson in UTF-8', () => {
    for (const value of [1.5, Number.NaN, 'é"', null, [], {}, { someKey: [1, { innerKey: 'x' }], properties: { keepThis: 1 } }]) {
      expect(text(snakeJsonInto(value, Buffer.alloc(256)))).toBe(toSnakeJson(value));
    }
  });
});
