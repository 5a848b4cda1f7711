import { describe, expect, it } from 'vitest';

import { ahead, grown, growAheadRowsMin, growAheadTouchBytes, GrowthAhead, none } from '../../projections/columns.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Turns until `done` holds (a growth touches a slice a turn), at most `max`. */
async function turnsUntil(done: () => boolean, max = 1_000): Promise<number> {
  for (let turns = 1; turns <= max; turns++) {
    await turn();
    if (done()) return turns;
  }
  throw new Error(`not done after ${max} turns`);
}

describe('GrowthAhead', () => {
  it('given long columns past three quarters full, when turns pass while rows are written, then each grows to twice its length over several turns with every value written meanwhile and its new rows filled', async () => {
    const length = growAheadRowsMin * 8; // 2 MB of Int32: more than one touched slice
    let rows = new Int32Array(length).fill(none);
    let stamps = new Float64Array(length * 2);
    let weights: Float64Array | null = null;
    const growth = new GrowthAhead([
      ahead({ get: () => weights, set: (next) => (weights = next) }),
      ahead({ get: () => stamps, set: (next) => (stamps = next), rowsPerHandle: 2 }),
      ahead({ get: () => rows, set: (next) => (rows = next), fill: none }),
    ]);
    let used = 0;
    const write = (): void => {
      rows[used] = used;
      stamps[used * 2] = used + 0.5;
      growth.note(++used, rows.length);
    };
    while (used < length * 0.75) write();
    const turns = await turnsUntil(() => {
      write();
      return rows.length > length;
    });
    expect(turns).toBeGreaterThan((length * 4) / growAheadTouchBytes); // a slice a turn, not one turn
    expect(rows.length).toBe(length * 2);
    expect(stamps.length).toBe(length * 4);
    expect(weights).toBeNull();
    let wrong = 0;
    for (let row = 0; row < used; row++) if (rows[row] !== row || stamps[row * 2] !== row + 0.5) wrong++;
    expect(wrong).toBe(0);
    expect(rows.subarray(used).every((value) => value === none)).toBe(true);
    expect(stamps.subarray(used * 2).every((value) => value === 0)).toBe(true);
  });

  it('given a column growing ahead, when a row needs it grown at once meanwhile, then the growth leaves the grown column as it is', async () => {
    const length = growAheadRowsMin * 8;
    let rows = new Int32Array(length);
    const growth = new GrowthAhead([ahead({ get: () => rows, set: (next) => (rows = next) })]);
    growth.note(length, length);
    await turn(); // touching has begun
    rows = grown(rows, length + 1);
    rows[length] = 7;
    const grownAtOnce = rows;
    for (let i = 0; i < 100; i++) await turn();
    expect(rows).toBe(grownAtOnce);
    expect(rows[length]).toBe(7);
  });

  it('given a Buffer column, when it grows ahead, then it is still a Buffer with its bytes', async () => {
    const length = growAheadRowsMin * 32;
    let chars = Buffer.alloc(length, 'a');
    const growth = new GrowthAhead([ahead({ get: () => chars, set: (next) => (chars = next) })]);
    growth.note(length, length);
    await turnsUntil(() => chars.length > length);
    expect(Buffer.isBuffer(chars)).toBe(true);
    expect(chars.toString('latin1', 0, length)).toBe('a'.repeat(length));
    expect(chars.length).toBe(length * 2);
  });
});
