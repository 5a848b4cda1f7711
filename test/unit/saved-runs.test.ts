// A projection's saved state with its columns as runs after a packed head (projections/saved-runs.ts):
// what a checkpoint writes reads back as the same state, columns of every type, wherever the bytes
// sit in memory; damaged bytes are a corrupt checkpoint naming the part, not a crash.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

import { joinedBytes, packWithRuns, unpackWithRuns } from '../../projections/saved-runs.js';
import { isMnemoError } from '../../src/index.js';

const codec = new Packr({ useRecords: false, moreTypes: true, structuredClone: false });

function ramp<T extends { length: number; [i: number]: number }>(column: T): T {
  for (let i = 0; i < column.length; i++) column[i] = (i * 7919) % 251;
  return column;
}

function state() {
  return {
    format: 3,
    names: ['a', 'b'],
    sources: ramp(new Int32Array(5000)),
    weights: ramp(new Float64Array(1200)),
    small: ramp(new Uint16Array(10)), // under the run size: packed in the head
    nested: { lengths: ramp(new Uint16Array(4096)), slots: ramp(new Uint32Array(3000)), count: 12 },
    chunks: [ramp(new Uint8Array(3)), ramp(new Uint8Array(9000)), new Uint8Array(0)], // all runs, whatever their sizes
    rows: [[1, { kind: 'x' }]],
  };
}

describe('saved runs', () => {
  it('given a state with columns, when packed and read back, then it is the same state and the big columns were not copied into the head', () => {
    const saved = state();
    const runs = packWithRuns(codec, saved);
    const head = runs[1]!;
    expect(head.byteLength).toBeLessThan(1000);
    // The columns' own memory is handed to the writer, not a copy.
    expect(runs.some((run) => run.buffer === saved.sources.buffer)).toBe(true);
    expect(unpackWithRuns(codec, joinedBytes(runs), 'test')).toEqual(saved);
  });

  it('given the saved bytes at an odd offset in memory, when read back, then the columns are copied to alignment and equal', () => {
    const bytes = joinedBytes(packWithRuns(codec, state()));
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    const back = unpackWithRuns(codec, shifted, 'test') as ReturnType<typeof state>;
    expect(back).toEqual(state());
    expect(back.weights).toBeInstanceOf(Float64Array);
  });

  it.each([
    ['cut short', (bytes: Uint8Array) => bytes.subarray(0, bytes.byteLength - 1)],
    ['a byte added', (bytes: Uint8Array) => Buffer.concat([bytes, new Uint8Array(1)])],
    ['a head length past the end', (bytes: Uint8Array) => Object.assign(new Uint8Array(bytes), { 3: 0x7f })],
    ['three bytes', () => new Uint8Array(3)],
  ])('given the saved bytes %s, when read back, then CHECKPOINT_CORRUPT names the part', (_, damage) => {
    const bytes = joinedBytes(packWithRuns(codec, state()));
    let thrown: unknown;
    try {
      unpackWithRuns(codec, damage(bytes), 'adjacency');
    } catch (e) {
      thrown = e;
    }
    expect(isMnemoError(thrown, 'CHECKPOINT_CORRUPT')).toBe(true);
    expect((thrown as { details: { file: string } }).details.file).toBe('adjacency');
  });
});
