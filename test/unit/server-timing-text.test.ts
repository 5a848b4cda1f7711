// Server-Timing durations are written by integer arithmetic instead of toFixed(3): given a table of
// durations, then the text is toFixed(3)'s (values on a rounding tie may differ in the last digit).
import { describe, expect, it } from 'vitest';

import { millisText } from '../../src/server/http.js';
import { seededRandom } from '../support/engine.js';

describe('millisText', () => {
  it('given durations from 0 to past a million ms, then each reads as toFixed(3) does', () => {
    const table = [0, 0.0001, 0.0004, 0.001, 0.009, 0.01, 0.099, 0.1, 0.5, 0.999, 1, 1.5, 12.345, 999.999, 1000, 123456.789, 999999.9994, 1e6, 2.5e6, Number.NaN, Infinity];
    for (const ms of table) expect(millisText(ms), String(ms)).toBe(ms.toFixed(3));
  });

  it('given random durations, then the text is toFixed(3)', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const ms = random() * 10 ** Math.floor(random() * 6);
      expect(millisText(ms), String(ms)).toBe(ms.toFixed(3));
    }
  });
});
