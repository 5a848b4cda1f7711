// `#/health`: live charts of /api/v1/prime/stats. One request at a time: the next poll is
// scheduled only when the previous answer (or its failure or timeout) is in, so a slow server
// is never sent a queue of polls.

import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, isAbort, messageOf, type Stats } from './api.js';
import { formatBytes, formatCount, formatMicros, formatTime } from './format.js';

/** Between the end of one poll and the start of the next. */
export const pollIntervalMs = 2000;
/** A poll that takes longer than this is abandoned and the next one scheduled. */
const pollTimeoutMs = 10_000;
/** Samples kept per chart: five minutes at one every two seconds. */
const samplesMax = 150;
/** Operations charted (the busiest); the table below the charts lists them all. */
const latencyOperationsMax = 5;
const chartHeightPx = 170;

const lineColours = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f'];

interface Sample {
  /** Seconds since the epoch (uPlot's time unit). */
  t: number;
  stats: Stats;
}

interface SeriesSpec {
  label: string;
  dash?: number[];
  colour: string;
  value(sample: Sample, previous: Sample | undefined): number | null;
}

export function HealthPage() {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abort = new AbortController();
    const poll = async () => {
      try {
        const stats = await api.stats(AbortSignal.any([abort.signal, AbortSignal.timeout(pollTimeoutMs)]));
        if (stopped) return;
        setSamples((old) => [...old.slice(-(samplesMax - 1)), { t: Date.now() / 1000, stats }]);
        setError(null);
      } catch (e) {
        if (!stopped && !(isAbort(e) && abort.signal.aborted)) setError(messageOf(e));
      } finally {
        if (!stopped) timer = setTimeout(poll, pollIntervalMs);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
    };
  }, []);

  const latest = samples.at(-1);
  return (
    <div class="health">
      <h1>Health</h1>
      <p class="muted" data-testid="health-status" data-samples={samples.length}>
        {latest === undefined ? 'Waiting for the first sample…' : `${samples.length} samples, the last at ${formatTime(latest.t * 1000)}; every ${pollIntervalMs / 1000} s`}
      </p>
      {error !== null && <p class="error">Stats unavailable: {error}</p>}
      {latest !== undefined && <Tiles stats={latest.stats} />}
      <div class="charts">
        <LiveChart title="Events per second" samples={samples} series={[{ label: 'events/s', colour: lineColours[0]!, value: ratePerSecond((s) => s.event_count) }]} format={(v) => v.toFixed(1)} />
        <LiveChart title="Latency per operation (p50 dashed, p99 solid)" samples={samples} series={latencySeries(latest)} format={formatMicros} logScale />
        <LiveChart
          title="Storage"
          samples={samples}
          series={[
            { label: 'WAL', colour: lineColours[0]!, value: (s) => s.stats.wal?.bytes ?? null },
            { label: 'Parquet', colour: lineColours[1]!, value: (s) => s.stats.compaction?.parquet_bytes ?? null },
          ]}
          format={formatBytes}
        />
        <LiveChart
          title="Checkpoint age (s)"
          samples={samples}
          series={[{ label: 'checkpoint age', colour: lineColours[2]!, value: (s) => (s.stats.checkpoint?.age_ms == null ? null : s.stats.checkpoint.age_ms / 1000) }]}
          format={(v) => `${v.toFixed(0)} s`}
        />
        <LiveChart title="Vectors waiting for the index" samples={samples} series={[{ label: 'vectors pending', colour: lineColours[3]!, value: (s) => s.stats.vectors_pending }]} format={(v) => formatCount(v)} />
        {latest?.stats.replication != null && (
          <LiveChart
            title="Replication lag (ms)"
            samples={samples}
            series={[{ label: 'lag', colour: lineColours[4]!, value: (s) => s.stats.replication?.lag_ms ?? null }]}
            format={(v) => `${v.toFixed(0)} ms`}
          />
        )}
      </div>
      {latest !== undefined && <LatencyTable stats={latest.stats} />}
    </div>
  );
}

function ratePerSecond(counter: (stats: Stats) => number | undefined): SeriesSpec['value'] {
  return (sample, previous) => {
    if (previous === undefined) return null;
    const now = counter(sample.stats);
    const before = counter(previous.stats);
    if (now === undefined || before === undefined || sample.t <= previous.t) return null;
    return Math.max(0, (now - before) / (sample.t - previous.t));
  };
}

/** The inspector's own page and asset loads are not the memory's workload; the table still lists them. */
const ownOperationPrefix = 'inspector.';

function busiestOperations(stats: Stats | undefined): string[] {
  const latency = stats?.latency_us ?? {};
  return Object.keys(latency)
    .filter((operation) => !operation.startsWith(ownOperationPrefix))
    .sort((a, b) => latency[b]!.count - latency[a]!.count || a.localeCompare(b))
    .slice(0, latencyOperationsMax)
    .sort();
}

function latencySeries(latest: Sample | undefined): SeriesSpec[] {
  return busiestOperations(latest?.stats).flatMap((operation, i) => {
    const colour = lineColours[i % lineColours.length]!;
    return [
      { label: `${operation} p50`, colour, dash: [4, 4], value: (s: Sample) => positive(s.stats.latency_us?.[operation]?.p50) },
      { label: `${operation} p99`, colour, value: (s: Sample) => positive(s.stats.latency_us?.[operation]?.p99) },
    ];
  });
}

/** Log scales cannot draw zero. */
function positive(value: number | undefined): number | null {
  return value === undefined ? null : Math.max(value, 1);
}

function LiveChart({ title, samples, series, format, logScale = false }: { title: string; samples: Sample[]; series: SeriesSpec[]; format(v: number): string; logScale?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const labels = series.map((s) => s.label).join('\u0000');

  // A new set of series (an operation became one of the busiest) needs a new chart; new samples do not.
  useEffect(() => {
    if (box.current === null) return;
    const options: Options = {
      width: Math.max(box.current.clientWidth, 200),
      height: chartHeightPx,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 1.5, ...(s.dash === undefined ? {} : { dash: s.dash }), value: (_u: uPlot, v: number | null) => (v == null ? '–' : format(v)) }))],
      scales: { x: { time: true }, y: logScale ? { distr: 3 } : {} },
      // A log axis ticks every 1..9 of each decade; only the decades get a label, or they overlap.
      axes: [{}, { values: (_u, ticks) => ticks.map((v) => (!logScale || isDecade(v) ? format(v) : '')), size: 70 }],
      legend: { live: false },
    };
    const created = new uPlot(options, dataOf(samples, series), box.current);
    chart.current = created;
    const resize = () => created.setSize({ width: Math.max(box.current?.clientWidth ?? 200, 200), height: chartHeightPx });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      created.destroy();
      chart.current = null;
    };
  }, [labels, logScale]);

  useEffect(() => {
    chart.current?.setData(dataOf(samples, series));
  }, [samples]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}

function isDecade(value: number): boolean {
  const exponent = Math.log10(value);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}

function dataOf(samples: Sample[], series: SeriesSpec[]): AlignedData {
  const times = samples.map((s) => s.t);
  const columns = series.map((spec) => samples.map((sample, i) => spec.value(sample, samples[i - 1])));
  return [times, ...columns] as AlignedData;
}

function Tiles({ stats }: { stats: Stats }) {
  const tiles: Array<[string, string]> = [
    ['nodes', formatCount(stats.total_nodes)],
    ['edges', formatCount(stats.total_edges)],
    ['vectors', formatCount(stats.total_vectors)],
    ['events', formatCount(stats.event_count)],
    ['last seq', formatCount(stats.last_seq)],
    ['WAL', `${formatBytes(stats.wal?.bytes ?? 0)} in ${stats.wal?.segments ?? 0} segments (${stats.wal?.durability ?? '?'})`],
    ['Parquet', `${formatBytes(stats.compaction?.parquet_bytes ?? 0)} in ${stats.compaction?.parquet_files ?? 0} files`],
    ['checkpoint', stats.checkpoint?.age_ms == null ? 'none yet' : `seq ${stats.checkpoint.seq ?? '?'}, ${Math.round(stats.checkpoint.age_ms / 1000)} s ago`],
    ['vectors pending', formatCount(stats.vectors_pending)],
    ['memory', stats.memory?.rss_bytes === undefined ? '?' : `${formatBytes(stats.memory.rss_bytes)} resident`],
    ['uptime', stats.uptime_s === undefined ? '?' : `${stats.uptime_s} s`],
  ];
  if (stats.replication != null) tiles.push(['replication lag', stats.replication.lag_ms == null ? '?' : `${stats.replication.lag_ms} ms`]);
  return (
    <dl class="tiles" data-testid="tiles">
      {tiles.map(([name, value]) => (
        <div>
          <dt>{name}</dt>
          <dd data-tile={name}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function LatencyTable({ stats }: { stats: Stats }) {
  const rows = Object.entries(stats.latency_us ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section>
      <h2>Latency since the server started</h2>
      <table class="latency">
        <thead>
          <tr>
            <th>operation</th>
            <th>count</th>
            <th>p50</th>
            <th>p95</th>
            <th>p99</th>
            <th>max</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([operation, l]) => (
            <tr>
              <td>{operation}</td>
              <td>{formatCount(l.count)}</td>
              <td>{formatMicros(l.p50)}</td>
              <td>{formatMicros(l.p95)}</td>
              <td>{formatMicros(l.p99)}</td>
              <td>{formatMicros(l.max)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
