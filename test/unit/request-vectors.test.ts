// Request vectors are checked by hand (a plain loop) instead of by zod's per-element parse. Given
// bodies with good and bad vectors, alone or beside other bad fields, when parsed, then the answer
// is the one the zod schema gives: the same value, or the same first problem naming the same field.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isMnemoError } from '../../src/kernel/errors.js';
import { vectorDimMax } from '../../src/kernel/limits.js';
import { parseInput, recallRequest, similarRequest, storeVectorRequest, vectorSearchRequest } from '../../src/kernel/requests.js';

/** What parseInput answers: the parsed value, or the error message. */
function outcome(schema: z.ZodType, input: unknown): unknown {
  try {
    return { value: parseInput(schema, input, 'body') };
  } catch (e) {
    if (!isMnemoError(e, 'VALIDATION_FAILED')) throw e;
    return { error: e.message };
  }
}

/** What zod alone answers for the same input, in parseInput's words (an unknown field is left to its own test). */
function bySchema(schema: z.ZodType, input: unknown): unknown {
  const result = schema.safeParse(input);
  if (result.success) return { value: result.data };
  const issue = result.error.issues[0]!;
  let field = '';
  for (const key of issue.path) field += typeof key === 'number' ? `[${key}]` : `${field === '' ? '' : '.'}${String(key)}`;
  return { error: `${field === '' ? 'body' : field}: ${issue.message}` };
}

const long = new Array<number>(vectorDimMax + 1).fill(0.5);
const vectors: Array<[string, unknown]> = [
  ['a good vector', [0.25, -1, 0, 1e308, 5e-324]],
  ['a string component', [1, 'two', 3]],
  ['NaN', [1, Number.NaN]],
  ['Infinity (JSON 1e999)', [Number.POSITIVE_INFINITY, 1]],
  ['-Infinity', [1, Number.NEGATIVE_INFINITY]],
  ['null inside', [null]],
  ['a nested array', [1, [2]]],
  ['a boolean', [true]],
  ['an empty vector', []],
  ['a string', 'abc'],
  ['null', null],
  ['an object', { 0: 1 }],
  ['one too many dimensions', long],
  ['too long and bad', [...long, 'x']],
];

const schemas: Array<[string, z.ZodType, Record<string, unknown>, Record<string, unknown>]> = [
  // [name, schema, a good other field, a bad field before `vector` in the schema (or none), a bad one after]
  ['search', vectorSearchRequest, { top_k: 3 }, { top_k: 0 }],
  ['store', storeVectorRequest, { id: 'node:a' }, { id: '' }],
  ['similar', similarRequest, { top_k: 3 }, { id: '' }],
  ['recall', recallRequest, { depth: 1 }, { text: 7 }],
];

describe('vectors checked by hand answer as the schema does', () => {
  for (const [schemaName, schema, good, bad] of schemas) {
    for (const [vectorName, vector] of vectors) {
      it(`${schemaName}: given ${vectorName}, when parsed, then the schema's answer`, () => {
        const body = { ...good, vector };
        expect(outcome(schema, body)).toEqual(bySchema(schema, body));
      });
      it(`${schemaName}: given ${vectorName} beside another bad field, when parsed, then the schema's first problem`, () => {
        const body = { ...bad, vector };
        expect(outcome(schema, body)).toEqual(bySchema(schema, body));
      });
    }
    it(`${schemaName}: given a bad vector and an unknown field, when parsed, then the vector is named first, as the schema does`, () => {
      expect(outcome(schema, { ...good, vector: [1, 'x'], unknown_field: 1 })).toEqual({ error: 'vector[1]: expected a finite number, got string \'x\'' });
    });
  }

  it('given NaN or Infinity, when parsed, then the message names the component and shows the number', () => {
    expect(outcome(vectorSearchRequest, { vector: [1, Number.NaN] })).toEqual({ error: 'vector[1]: expected a finite number, got number NaN' });
    expect(outcome(vectorSearchRequest, { vector: [Number.POSITIVE_INFINITY] })).toEqual({ error: 'vector[0]: expected a finite number, got number Infinity' });
  });

  it('given a good vector, when parsed, then the same numbers come back', () => {
    expect(outcome(vectorSearchRequest, { vector: [0.5, -2], top_k: 2 })).toEqual({ value: { vector: [0.5, -2], top_k: 2 } });
  });
});
