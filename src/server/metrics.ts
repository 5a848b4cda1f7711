// `GET /metrics`: the engine's stats and the server's latency histograms in the Prometheus
// text exposition format (version 0.0.4). Every numeric leaf of engine.stats() becomes a
// gauge, so a stat the engine adds later shows up here without a change.

import type { LatencyRecorder } from './latency.js';

export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** Count-by-label maps in stats, exported as one labelled gauge each. */
const labelledCounts: Record<string, string> = { nodesByType: 'type', edgesByRelation: 'relation' };

/** Latency buckets in seconds: 50 µs to 1 s, what a loopback read to a slow write spans. */
const bucketBoundsUs = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000];

export function renderMetrics(stats: Record<string, unknown>, latency: LatencyRecorder): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(stats)) {
    const label = labelledCounts[key];
    if (label !== undefined && typeof value === 'object' && value !== null) {
      labelledGauge(lines, `mnemo_${snake(key)}`, label, value as Record<string, unknown>);
    } else {
      numericLeaves(lines, `mnemo_${snake(key)}`, value, 0);
    }
  }
  latencyHistograms(lines, latency);
  return `${lines.join('\n')}\n`;
}

function labelledGauge(lines: string[], name: string, label: string, counts: Record<string, unknown>): void {
  lines.push(`# TYPE ${name} gauge`);
  for (const [key, count] of Object.entries(counts)) {
    if (typeof count === 'number') lines.push(`${name}{${label}="${escapeLabel(key)}"} ${count}`);
  }
}

/** Nested stats (wal.bytes → mnemo_wal_bytes); bounded depth, non-numbers skipped (booleans as 0/1). */
function numericLeaves(lines: string[], name: string, value: unknown, depth: number): void {
  if (typeof value === 'number' && Number.isFinite(value)) {
    lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
  } else if (typeof value === 'boolean') {
    lines.push(`# TYPE ${name} gauge`, `${name} ${value ? 1 : 0}`);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && depth < 3) {
    for (const [key, child] of Object.entries(value)) numericLeaves(lines, `${name}_${snake(key)}`, child, depth + 1);
  }
}

function latencyHistograms(lines: string[], latency: LatencyRecorder): void {
  const name = 'mnemo_http_request_duration_seconds';
  lines.push(`# HELP ${name} Time from request to response at the server boundary, per operation.`, `# TYPE ${name} histogram`);
  for (const [operation, histogram] of latency.entries()) {
    const cumulative = histogram.cumulativeAt(bucketBoundsUs);
    bucketBoundsUs.forEach((bound, i) => lines.push(`${name}_bucket{operation="${operation}",le="${bound / 1e6}"} ${cumulative[i]}`));
    lines.push(`${name}_bucket{operation="${operation}",le="+Inf"} ${histogram.count}`);
    lines.push(`${name}_sum{operation="${operation}"} ${histogram.sumUs / 1e6}`);
    lines.push(`${name}_count{operation="${operation}"} ${histogram.count}`);
  }
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
