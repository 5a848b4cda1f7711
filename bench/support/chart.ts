// Plain SVG charts for BENCHMARKS.md: a line chart (a metric against data size, one line per
// subject) and a horizontal bar chart (one bar per subject). No dependency: a chart is a few
// dozen SVG elements, and a library would be most of the bench's install weight.

export interface Series {
  name: string;
  points: ReadonlyArray<{ x: number; y: number }>;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Log scales spread data sizes (10K…1M) and latencies (1 µs…10 ms) that span decades. */
  logX?: boolean;
  logY?: boolean;
}

export interface BarChartSpec {
  title: string;
  valueLabel: string;
  bars: ReadonlyArray<{ name: string; value: number }>;
  logValue?: boolean;
}

const width = 780;
const height = 400;
const margin = { left: 80, right: 300, top: 40, bottom: 56 };
/** Distinguishable on white and in greyscale print order; mnemo is always the first series. */
const palette = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const ticksLinear = 5;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A compact tick label: 1.5K, 2M, 0.25. */
export function shortNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${+(value / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toPrecision(3)}K`;
  return `${+value.toPrecision(3)}`;
}

interface Axis {
  toPixel(value: number): number;
  ticks: number[];
}

function axis(values: readonly number[], log: boolean, pixelFrom: number, pixelTo: number): Axis {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  let lo = finite.length > 0 ? Math.min(...finite) : 1;
  let hi = finite.length > 0 ? Math.max(...finite) : 10;
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (hi === lo) hi = lo * 10;
    const ticks: number[] = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
    const span = Math.log10(hi) - Math.log10(lo);
    return { ticks, toPixel: (v) => pixelFrom + ((Math.log10(v) - Math.log10(lo)) / span) * (pixelTo - pixelFrom) };
  }
  lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  const ticks = Array.from({ length: ticksLinear + 1 }, (_, i) => lo + ((hi - lo) * i) / ticksLinear);
  return { ticks, toPixel: (v) => pixelFrom + ((v - lo) / (hi - lo)) * (pixelTo - pixelFrom) };
}

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(names: readonly string[]): string[] {
  const x = width - margin.right + 16;
  return names.flatMap((name, i) => {
    const y = margin.top + 8 + i * 20;
    const colour = palette[i % palette.length]!;
    return [`<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${colour}"/>`, `<text x="${x + 20}" y="${y}">${escapeXml(name)}</text>`];
  });
}

export function lineChart(spec: LineChartSpec): string {
  const plotBottom = height - margin.bottom;
  const plotRight = width - margin.right;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p.y));
  const xAxis = axis(xs, spec.logX ?? false, margin.left, plotRight);
  const yAxis = axis(ys, spec.logY ?? false, plotBottom, margin.top);
  const body: string[] = [];
  for (const t of yAxis.ticks) {
    const y = yAxis.toPixel(t).toFixed(1);
    body.push(`<line x1="${margin.left}" y1="${y}" x2="${plotRight}" y2="${y}" stroke="#ddd"/>`);
    body.push(`<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${shortNumber(t)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = xAxis.toPixel(t).toFixed(1);
    body.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${plotBottom}" stroke="#eee"/>`);
    body.push(`<text x="${x}" y="${plotBottom + 16}" text-anchor="middle">${shortNumber(t)}</text>`);
  }
  body.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotRight - margin.left}" height="${plotBottom - margin.top}" fill="none" stroke="#333"/>`);
  body.push(`<text x="${(margin.left + plotRight) / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(spec.xLabel)}${spec.logX ? ' (log)' : ''}</text>`);
  body.push(`<text x="18" y="${(margin.top + plotBottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(margin.top + plotBottom) / 2})">${escapeXml(spec.yLabel)}${spec.logY ? ' (log)' : ''}</text>`);
  spec.series.forEach((series, i) => {
    const colour = palette[i % palette.length]!;
    const points = series.points.filter((p) => Number.isFinite(p.y) && (!spec.logY || p.y > 0)).map((p) => `${xAxis.toPixel(p.x).toFixed(1)},${yAxis.toPixel(p.y).toFixed(1)}`);
    if (points.length > 1) body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const point of points) {
      const [cx, cy] = point.split(',');
      body.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${colour}"/>`);
    }
  });
  body.push(...legend(spec.series.map((s) => s.name)));
  return frame(spec.title, body);
}

export function barChart(spec: BarChartSpec): string {
  const plotRight = width - margin.right;
  const rowHeight = Math.min(36, (height - margin.top - margin.bottom) / Math.max(1, spec.bars.length));
  const valueAxis = axis(spec.bars.map((b) => b.value), spec.logValue ?? false, margin.left + 150, plotRight);
  const body: string[] = [];
  const baseX = margin.left + 150;
  for (const t of valueAxis.ticks) {
    const x = valueAxis.toPixel(t).toFixed(1);
    body.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${height - margin.bottom}" stroke="#eee"/>`);
    body.push(`<text x="${x}" y="${height - margin.bottom + 16}" text-anchor="middle">${shortNumber(t)}</text>`);
  }
  spec.bars.forEach((bar, i) => {
    const y = margin.top + i * rowHeight;
    const end = Number.isFinite(bar.value) && bar.value > 0 ? valueAxis.toPixel(bar.value) : baseX;
    const start = spec.logValue ? baseX : valueAxis.toPixel(0);
    body.push(`<text x="${baseX - 6}" y="${y + rowHeight / 2}" text-anchor="end" dominant-baseline="middle">${escapeXml(bar.name)}</text>`);
    body.push(`<rect x="${start.toFixed(1)}" y="${(y + 4).toFixed(1)}" width="${Math.max(1, end - start).toFixed(1)}" height="${(rowHeight - 8).toFixed(1)}" fill="${palette[i % palette.length]!}"/>`);
    body.push(`<text x="${(end + 4).toFixed(1)}" y="${y + rowHeight / 2}" dominant-baseline="middle">${shortNumber(bar.value)}</text>`);
  });
  body.push(`<text x="${(baseX + plotRight) / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(spec.valueLabel)}${spec.logValue ? ' (log)' : ''}</text>`);
  return frame(spec.title, body);
}
