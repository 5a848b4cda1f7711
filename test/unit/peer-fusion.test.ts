// Merging per-machine rankings and the per-peer circuit breaker.

import { describe, expect, it } from 'vitest';
import { fuseRankings, rrfK } from '../../src/peers/fusion.js';
import { CircuitBreaker } from '../../src/peers/circuit.js';
import { peerCircuitOpenMs, peerFailuresToOpen } from '../../src/kernel/limits.js';

const hit = (id: string, score: number) => ({ id, score });

describe('reciprocal rank fusion', () => {
  it('given local and two peer rankings, when fused, then results interleave by rank, each marked with its origin, local first on ties', () => {
    const fused = fuseRankings(
      [
        { origin: 'laptop', results: [hit('a', 0.9), hit('b', 0.8)] },
        { origin: 'build', results: [hit('x', 0.95), hit('y', 0.1)] },
        { origin: 'nas', results: [hit('p', 0.5)] },
      ],
      10,
    );
    expect(fused.map((r) => `${r.origin}:${r.id}`)).toEqual(['build:x', 'laptop:a', 'nas:p', 'laptop:b', 'build:y']);
    expect(fused[0]!.rrf).toBeCloseTo(1 / (rrfK + 1));
    expect(fused[3]!.rrf).toBeCloseTo(1 / (rrfK + 2));
  });

  it('given the same id on two machines, when fused, then it is one result credited by both, ahead of single-machine firsts', () => {
    const fused = fuseRankings(
      [
        { origin: 'laptop', results: [hit('a', 0.9), hit('shared', 0.8)] },
        { origin: 'build', results: [hit('x', 0.95), hit('shared', 0.7)] },
      ],
      2,
    );
    expect(fused.map((r) => r.id)).toEqual(['shared', 'x']);
    expect(fused[0]!.origin).toBe('laptop');
    expect(fused[0]!.rrf).toBeCloseTo(2 / (rrfK + 2));
  });

  it('given a limit, when fused, then the best results up to it are kept', () => {
    expect(fuseRankings([{ origin: 'l', results: [hit('a', 1), hit('b', 1), hit('c', 1)] }], 2).map((r) => r.id)).toEqual(['a', 'b']);
  });
});

describe('circuit breaker', () => {
  it('given repeated failures, then the peer is skipped until the open time passes, one probe is let through, and a success closes it', () => {
    const circuit = new CircuitBreaker();
    let now = 1_000_000;
    for (let i = 0; i < peerFailuresToOpen; i++) {
      expect(circuit.admit(now)).toBe('closed');
      circuit.failed(now);
    }
    expect(circuit.admit(now)).toBe('open');
    expect(circuit.retryInMs(now)).toBe(peerCircuitOpenMs);
    now += peerCircuitOpenMs;
    expect(circuit.admit(now)).toBe('half-open');
    expect(circuit.admit(now)).toBe('open'); // one probe at a time
    circuit.failed(now);
    expect(circuit.retryInMs(now)).toBe(2 * peerCircuitOpenMs);
    now += 2 * peerCircuitOpenMs;
    expect(circuit.admit(now)).toBe('half-open');
    circuit.succeeded();
    expect(circuit.admit(now)).toBe('closed');
  });
});
