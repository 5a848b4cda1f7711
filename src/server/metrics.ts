// `GET /metrics` in the Prometheus text format, through prom-client: every family has HELP and
// TYPE, counts that only grow are counters (`_total`), durations are `_seconds` and sizes
// `_bytes`, and the process metrics every Node exporter has (CPU, memory, event loop, GC) come
// from prom-client's defaults. Each server keeps its own registry, so two servers in one process
// (tests) do not share series.
//
// Engine stats are read at scrape time. The table below names, describes and types each one; a
// numeric stat the engine adds later, not yet in the table, still shows up as a gauge named after
// its path (an `...Ms` stat converted to `_seconds`), so nothing new goes unexported.

import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

interface EngineMetric {
  /** Where in engine.stats() (`wal.fsyncs`). */
  path: string;
  name: string;
  help: string;
  kind: 'gauge' | 'counter';
  /** Multiplies the stat into the metric's base unit (ms → s is 0.001). */
  scale?: number;
}

const engineMetrics: readonly EngineMetric[] = [
  { path: 'totalNodes', name: 'mnemo_total_nodes', help: 'Live nodes.', kind: 'gauge' },
  { path: 'totalEdges', name: 'mnemo_total_edges', help: 'Live edges.', kind: 'gauge' },
  { path: 'totalVectors', name: 'mnemo_total_vectors', help: 'Stored vectors.', kind: 'gauge' },
  { path: 'eventCount', name: 'mnemo_events_total', help: 'Events in the store since the data dir was created.', kind: 'counter' },
  { path: 'lastSeq', name: 'mnemo_last_seq', help: 'Sequence number of the last event.', kind: 'gauge' },
  { path: 'vectorsPending', name: 'mnemo_vectors_pending', help: 'Vectors stored but not yet in the HNSW index (searched exactly meanwhile).', kind: 'gauge' },
  { path: 'vectorsIndexedPerSecond', name: 'mnemo_vectors_indexed_per_second', help: 'Recent background HNSW indexing rate, vectors per second.', kind: 'gauge' },
  { path: 'wal.segments', name: 'mnemo_wal_segments', help: 'Write-ahead log segment files.', kind: 'gauge' },
  { path: 'wal.bytes', name: 'mnemo_wal_bytes', help: 'Bytes in write-ahead log segment files.', kind: 'gauge' },
  { path: 'wal.fsyncs', name: 'mnemo_wal_fsyncs_total', help: 'fsync calls on the write-ahead log.', kind: 'counter' },
  { path: 'wal.lastFsyncAt', name: 'mnemo_wal_last_fsync_timestamp_seconds', help: 'Unix time of the last write-ahead log fsync (NaN before the first).', kind: 'gauge', scale: 0.001 },
  { path: 'checkpoint.seq', name: 'mnemo_checkpoint_seq', help: 'Sequence number the latest checkpoint covers.', kind: 'gauge' },
  { path: 'checkpoint.ageMs', name: 'mnemo_checkpoint_age_seconds', help: 'Age of the latest checkpoint (NaN when there is none).', kind: 'gauge', scale: 0.001 },
  { path: 'checkpoint.eventsSince', name: 'mnemo_checkpoint_events_since', help: 'Events after the latest checkpoint: what a restart replays.', kind: 'gauge' },
  { path: 'checkpoint.written', name: 'mnemo_checkpoints_written_total', help: 'Checkpoints written by this process.', kind: 'counter' },
  { path: 'checkpoint.lastMs', name: 'mnemo_checkpoint_last_duration_seconds', help: 'How long the last checkpoint took (NaN before the first).', kind: 'gauge', scale: 0.001 },
  { path: 'checkpoint.lastBytes', name: 'mnemo_checkpoint_last_bytes', help: 'Size of the last checkpoint written (NaN before the first).', kind: 'gauge' },
  { path: 'checkpoint.running', name: 'mnemo_checkpoint_running', help: '1 while a checkpoint is being written.', kind: 'gauge' },
  { path: 'compaction.parquetFiles', name: 'mnemo_parquet_files', help: 'Parquet files holding compacted events.', kind: 'gauge' },
  { path: 'compaction.parquetRows', name: 'mnemo_parquet_rows', help: 'Events in Parquet files.', kind: 'gauge' },
  { path: 'compaction.parquetBytes', name: 'mnemo_parquet_bytes', help: 'Bytes in Parquet files.', kind: 'gauge' },
  { path: 'compaction.running', name: 'mnemo_compaction_running', help: '1 while a compaction runs.', kind: 'gauge' },
  { path: 'compaction.runs', name: 'mnemo_compaction_runs_total', help: 'Compaction runs by this process.', kind: 'counter' },
  { path: 'compaction.segmentsCompacted', name: 'mnemo_compaction_segments_compacted_total', help: 'WAL segments compacted to Parquet by this process.', kind: 'counter' },
  { path: 'compaction.lastRunMs', name: 'mnemo_compaction_last_run_duration_seconds', help: 'How long the last compaction took (NaN before the first).', kind: 'gauge', scale: 0.001 },
];

/** Count-by-label maps in stats, each one labelled gauge. */
const labelledCounts = [
  { path: 'nodesByType', name: 'mnemo_nodes_by_type', label: 'type', help: 'Live nodes per node type.' },
  { path: 'edgesByRelation', name: 'mnemo_edges_by_relation', label: 'relation', help: 'Live edges per relation.' },
] as const;

/** Stats the server exports its own way (process defaults, request counters), or that are not numbers worth a series. */
const notExported = new Set(['memory', 'uptimeS', 'http', 'latencyUs', 'wal.durability', 'compaction.lastError', 'contentDigest', 'replication.origin', 'replication.stream', 'replication.lastRejection', 'replication.refused']);

/** prom-client default metrics that are gauges despite their `_total` name. */
const misnamedDefaults = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Paths the table or the labelled maps cover, and paths not exported: no unknown-stat gauge for these. */
const known = new Set<string>([...engineMetrics.map((m) => m.path), ...labelledCounts.map((m) => m.path), ...notExported]);

/** Nested stats deeper than this are not walked for unknown metrics: stats are shallow by design. */
const statsDepthMax = 3;

/** Request latency buckets in seconds: 50 µs to 1 s, what a loopback read to a slow fsync'd write spans. */
const latencyBucketsSeconds = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

/**
 * One operation's answered requests: counts per status and the duration histogram's buckets. The
 * server adds to it on every request (an array increment, no label hashing: prom-client's labelled
 * counter and histogram cost 1.2 µs a request together); prom-client reads it at scrape time.
 */
export class OperationCounts {
  readonly statuses = new Map<number, number>();
  /** Requests at or below each of latencyBucketsSeconds (not cumulative; summed at scrape time). */
  readonly buckets = new Float64Array(latencyBucketsSeconds.length);
  sumSeconds = 0;
  count = 0;

  observe(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    for (let i = 0; i < latencyBucketsSeconds.length; i++) {
      if (seconds <= latencyBucketsSeconds[i]!) {
        this.buckets[i]! += 1;
        break;
      }
    }
    this.sumSeconds += seconds;
    this.count += 1;
  }
}

const requestsName = 'mnemo_http_requests_total';
const durationName = 'mnemo_http_request_duration_seconds';

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly operations = new Map<string, OperationCounts>();
  private readonly unknown = new Map<string, Gauge | null>();
  /** The stats of the scrape in progress: every collect() of one scrape reads the same object. */
  private current: Record<string, unknown> = {};

  constructor(
    private readonly stats: () => Record<string, unknown>,
    inFlight: () => number,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named `_total`, which promtool rightly flags; the per-type nodejs_active_* gauges carry the same counts.
    for (const name of misnamedDefaults) this.registry.removeSingleMetric(name);
    const operations = this.operations;
    new Counter({
      name: requestsName,
      help: 'HTTP requests answered, per operation and status code.',
      labelNames: ['operation', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [operation, counts] of operations) for (const [status, n] of counts.statuses) this.inc({ operation, status: String(status) }, n);
      },
    });
    this.registry.registerMetric(durationHistogram(operations) as unknown as Metric);
    new Gauge({ name: 'mnemo_http_requests_in_flight', help: 'Requests being served now.', registers: [this.registry], collect() { this.set(inFlight()); } });
    this.declareEngineMetrics();
  }

  /** The counts one operation's requests are added to; the server looks it up once per route, not per request. */
  countsFor(operation: string): OperationCounts {
    let counts = this.operations.get(operation);
    if (counts === undefined) {
      counts = new OperationCounts();
      this.operations.set(operation, counts);
    }
    return counts;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; reads the engine's stats once, and adds a gauge for any stat the table does not know yet. */
  render(): Promise<string> {
    this.current = this.stats();
    for (const [path] of numericLeaves(this.current, '', 0)) {
      if (known.has(path) || this.unknown.has(path)) continue;
      this.unknown.set(path, unknownGauge(this.registry, path, () => numberAt(this.current, path)));
    }
    return this.registry.metrics();
  }

  private declareEngineMetrics(): void {
    const registry = this.registry;
    const current = () => this.current;
    for (const metric of engineMetrics) {
      const read = () => numberAt(current(), metric.path) * (metric.scale ?? 1);
      if (metric.kind === 'counter') {
        new Counter({
          name: metric.name,
          help: metric.help,
          registers: [registry],
          // The engine keeps the count; prom-client's counter only reports it (reset, then the total).
          collect() {
            const value = read();
            this.reset();
            if (Number.isFinite(value)) this.inc(value);
          },
        });
      } else {
        new Gauge({ name: metric.name, help: metric.help, registers: [registry], collect() { this.set(read()); } });
      }
    }
    for (const { path, name, label, help } of labelledCounts) {
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers: [registry],
        collect() {
          this.reset();
          const counts = current()[path];
          if (typeof counts !== 'object' || counts === null) return;
          for (const [key, count] of Object.entries(counts)) if (typeof count === 'number') this.set({ [label]: key }, count);
        },
      });
    }
  }
}

/** A gauge for a stat the table does not know yet, named after its path; null if that name is taken. */
function unknownGauge(registry: Registry, path: string, read: () => number): Gauge | null {
  const seconds = /Ms$/.test(path);
  const name = `mnemo_${path.replace(/Ms$/, '').split('.').map(snake).join('_')}${seconds ? '_seconds' : ''}`;
  if (registry.getSingleMetric(name) !== undefined) return null;
  return new Gauge({
    name,
    help: `Engine stat ${path}, as in GET /api/v1/prime/stats${seconds ? ' (in seconds)' : ''}.`,
    registers: [registry],
    collect() {
      this.set(read() * (seconds ? 0.001 : 1));
    },
  });
}

/** A stat as a number: booleans 1/0, null or missing NaN (unknown). */
function numberAt(stats: Record<string, unknown>, path: string): number {
  let value: unknown = stats;
  for (const key of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number.NaN;
}

function* numericLeaves(value: unknown, path: string, depth: number): Generator<[string, unknown]> {
  if (typeof value === 'number' || typeof value === 'boolean') {
    yield [path, value];
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && depth < statsDepthMax) {
    if (known.has(path)) return;
    // Keys first, values only for paths not known: a stat may be a getter that costs (contentDigest sorts every id).
    for (const key of Object.keys(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (!known.has(childPath)) yield* numericLeaves((value as Record<string, unknown>)[key], childPath, depth + 1);
    }
  }
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-zA-Z0-9_]/g, '_');
}

/**
 * mnemo_http_request_duration_seconds as prom-client renders a histogram (`_bucket` per `le` with
 * `+Inf`, `_sum`, `_count`, per operation), built at scrape time from the operations' counts.
 */
function durationHistogram(operations: ReadonlyMap<string, OperationCounts>) {
  const help = 'Time from request to response at the server boundary, per operation.';
  return {
    name: durationName,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const [operation, counts] of operations) {
        if (counts.count === 0) continue;
        let cumulative = 0;
        latencyBucketsSeconds.forEach((le, i) => {
          cumulative += counts.buckets[i]!;
          values.push({ metricName: `${durationName}_bucket`, labels: { le, operation }, value: cumulative });
        });
        values.push({ metricName: `${durationName}_bucket`, labels: { le: '+Inf', operation }, value: counts.count });
        values.push({ metricName: `${durationName}_sum`, labels: { operation }, value: counts.sumSeconds });
        values.push({ metricName: `${durationName}_count`, labels: { operation }, value: counts.count });
      }
      return { name: durationName, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
