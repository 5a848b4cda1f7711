// The report plumbing: charts are well-formed SVG with one mark per measurement, and the generated
// BENCHMARKS.md carries a goals table, one table and chart per question, and the machine.
import { describe, expect, it } from 'vitest';
import { barChart, lineChart, shortNumber } from '../../bench/support/chart.js';
import { timeAlternatingUs } from '../../bench/support/report.js';
import { handWrittenMarker, renderReport, writeReport, type RunResult } from '../../bench/run-all.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/engine.js';
import type { QuestionResult } from '../../bench/support/question.js';

const question: QuestionResult = {
  id: 'neighbors',
  title: 'Graph neighbours',
  sizeUnit: 'nodes',
  latencyUnit: 'µs',
  compareBy: 'p50',
  throughputUnit: 'queries/s',
  rows: [
    { subject: 'mnemo `neighbors`', role: 'mnemo', size: 1000, p50: 2, p99: 5, throughput: 400_000 },
    { subject: 'better-sqlite3', role: 'peer', size: 1000, p50: 50, p99: 90, throughput: 20_000 },
    { subject: 'mnemo `neighbors`', role: 'mnemo', size: 10_000, p50: 3, p99: 6, throughput: 300_000 },
    { subject: 'better-sqlite3', role: 'peer', size: 10_000, p50: 60, p99: 100, throughput: 16_000 },
  ],
  settings: ['sqlite: WAL'],
  goals: [{ text: 'neighbours ≥ 20× better-sqlite3', met: true, evidence: '20×' }],
  skipped: ['SomePeer could not be installed'],
  notes: [],
  checksum: 42,
};

describe('bench report', () => {
  it('given two series over two sizes, when charted on log axes, then the SVG has two lines and four points', () => {
    const svg = lineChart({ title: 'a < b', xLabel: 'nodes', yLabel: 'µs', logX: true, logY: true, series: [
      { name: 'mnemo', points: [{ x: 1000, y: 2 }, { x: 10_000, y: 3 }] },
      { name: 'sqlite', points: [{ x: 1000, y: 50 }, { x: 10_000, y: 60 }] },
    ] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(2);
    expect(svg.match(/<circle/g)?.length).toBe(4);
    expect(svg).toContain('a &lt; b');
    expect(svg).not.toContain('NaN');
  });

  it('given bars, when charted, then each bar has a rect and a label', () => {
    const svg = barChart({ title: 't', valueLabel: 'req/s', bars: [{ name: 'x', value: 10 }, { name: 'y', value: 1000 }], logValue: true });
    expect(svg.match(/<rect x=/g)?.length).toBe(2);
    expect(svg).not.toContain('NaN');
    expect(shortNumber(1_500_000)).toBe('1.5M');
  });

  it('given a run, when rendered, then the report states goals, machine, tables, charts and skipped peers', () => {
    const run: RunResult = {
      quick: true,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20', os: 'Linux', memoryGiB: 24, loadAtStart: 1, date: '2026-01-01' },
      sizes: { neighborsNodes: [], neighborsQueries: 0, knnVectors: [], knnDim: 0, knnQueries: 0, ingestEvents: [], restartEvents: [] },
      seconds: 60,
      peakRssMiB: 100,
      questions: [question],
    };
    const md = renderReport(run, new Map([['neighbors', 'bench/results/neighbors-quick.svg']]));
    expect(md).toContain('2 cores, Test CPU');
    expect(md).toContain('| neighbours ≥ 20× better-sqlite3 | ✅ met | 20× |');
    expect(md).toContain('![Graph neighbours](bench/results/neighbors-quick.svg)');
    expect(md).toContain('mnemo 25.00× faster');
    expect(md).toContain('**Not run**: SomePeer could not be installed');
  });
});

describe('timeAlternatingUs', () => {
  it('given two subjects, when timed, then each gets every call index once, in alternating blocks, with a sample per call', () => {
    const calls: Array<[string, number]> = [];
    const [a, b] = timeAlternatingUs(25, [(i) => calls.push(['a', i]), (i) => calls.push(['b', i])]);
    expect(a!.samples).toHaveLength(25);
    expect(b!.samples).toHaveLength(25);
    for (const subject of ['a', 'b']) expect(calls.filter(([s]) => s === subject).map(([, i]) => i)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    // Blocks of 3 (25 / 10 rounded up): a 0-2, b 0-2, a 3-5, …
    expect(calls.slice(0, 7)).toEqual([['a', 0], ['a', 1], ['a', 2], ['b', 0], ['b', 1], ['b', 2], ['a', 3]]);
  });

  it('given a BENCHMARKS.md with a hand-written part below the marker, when the report is written again, then that part is kept as it was', async () => {
    const root = await tempDir('mnemo-bench-report-');
    mkdirSync(join(root, 'bench'), { recursive: true });
    const handWritten = `${handWrittenMarker}: carry this part over -->\n\n## Measurements behind the design\n\nA note.\n`;
    writeFileSync(join(root, 'BENCHMARKS.md'), `old generated part\n\n${handWritten}`);
    const run: RunResult = {
      quick: false,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20', os: 'Linux', memoryGiB: 24, loadAtStart: 1, date: '2026-01-01' },
      sizes: { neighborsNodes: [], neighborsQueries: 0, knnVectors: [], knnDim: 0, knnQueries: 0, ingestEvents: [], restartEvents: [] },
      seconds: 60,
      peakRssMiB: 100,
      questions: [question],
    };
    writeReport(run, root, false);
    const md = readFileSync(join(root, 'BENCHMARKS.md'), 'utf8');
    expect(md).not.toContain('old generated part');
    expect(md).toContain('2 cores, Test CPU');
    expect(md.endsWith(handWritten)).toBe(true);
  });
});
