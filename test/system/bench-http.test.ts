// The HTTP comparison at tiny size (wrk for 1 s per cell): mnemo, the same-bytes bare uWS floor and node:http
// all serve, and the checksum (one neighbours answer from each server) repeats on a second run.
import { describe, expect, it } from 'vitest';
import { compareHttp } from '../../bench/compare-http.js';

const tiny = { quick: true, durationS: 1, graphNodes: 100, vectorCount: 50, log: () => {} };

describe('compare-http (tiny)', () => {
  it('given a 100-node graph, when measured with wrk twice, then every target served and the checksum repeats', async () => {
    const first = await compareHttp(tiny);
    const second = await compareHttp(tiny);
    expect(first.skipped).toEqual([]); // wrk is part of the dev environment (apt-get install wrk)
    expect(first.rows.length).toBe(6); // neighbours: floor, mnemo, node:http at 10 and 50 connections
    expect(first.notes.length).toBe(13); // GET /nodes/:id and search (floor, floor + HNSW, mnemo) at 10 and 50, the HNSW share at each, and the routes' own work
    expect(first.goals.length).toBe(5); // each route against its same-bytes floor, search against the floor + HNSW, neighbours against node:http
    // Each floor goal says how close mnemo could come if its HTTP glue cost nothing, at both connection counts.
    for (const goal of first.goals.slice(0, 4)) expect(goal.evidence).toMatch(/^10 connections: [\d.]+× \(ceiling 0\.\d\d×\), 50 connections: [\d.]+× \(ceiling 0\.\d\d×\)$/);
    for (const row of first.rows) expect(row.throughput).toBeGreaterThan(0);
    // mnemo and node:http returned the same number of neighbours for the hub (20 out-edges, plus in-edges).
    expect(first.checksum % 1001).toBe(0);
    expect(first.checksum).toBeGreaterThanOrEqual(20 * 1001);
    expect(second.checksum).toBe(first.checksum);
  });
});
