// HTTP bodies: given JSON nested near the depth cap, when decoded, then exactly the bodies past the
// cap are refused (naming `body`), whatever mix of objects, arrays and numbers they hold.
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/index.js';
import { decodeBody } from '../../src/server/body.js';

/** `levels` containers, each inside the last, alternating objects and arrays, with numbers and strings beside each. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let level = levels - 1; level >= 0; level--) value = level % 2 === 0 ? { vector: [0.5, -1, 2e-7], name: 'n', child: value } : [1, 2.5, value, 'x'];
  return value;
}

const bytesOf = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('decodeBody depth', () => {
  it('given containers nested up to the cap, when decoded, then the body is returned whole', () => {
    const value = nested(limits.httpBodyDepthMax);
    expect(decodeBody(bytesOf(value), 'json')).toEqual(value);
  });

  it('given one container more than the cap, as an object or an array, when decoded, then it is refused naming body', () => {
    for (const value of [nested(limits.httpBodyDepthMax + 1), { wrapped: nested(limits.httpBodyDepthMax) }, [nested(limits.httpBodyDepthMax)]]) {
      expect(() => decodeBody(bytesOf(value), 'json')).toThrow(/^body: nested deeper than/);
    }
  });

  it('given a flat vector body, when decoded, then its numbers come back exactly', () => {
    const vector = Array.from({ length: 64 }, (_, i) => Math.sin(i) / 3);
    expect(decodeBody(bytesOf({ vector, top_k: 10 }), 'json')).toEqual({ vector, top_k: 10 });
  });
});
