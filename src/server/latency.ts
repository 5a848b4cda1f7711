// A fixed-size log-linear latency histogram in the manner of HDR Histogram: values below
// 64 µs get a bucket each; above that, every power of two is split into 32 linear
// sub-buckets, so a percentile is within ~3% of the true value at any scale, and memory
// stays at 864 counters however many requests are recorded.

const subBucketBits = 5;
const subBuckets = 1 << subBucketBits; // 32 per octave: ~3% relative precision
const exactBelow = subBuckets * 2; // 0..63 µs are recorded exactly
/** Values are clamped here (about 35 minutes); a request that slow is reported as this. */
const valueMaxUs = 2 ** 31 - 1;
const bucketCount = exactBelow + (31 - subBucketBits - 1) * subBuckets;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(bucketCount);
  private total = 0;
  private sum = 0;
  private maxUs = 0;

  record(valueUs: number): void {
    const v = Math.min(Math.max(Math.round(valueUs), 0), valueMaxUs);
    this.counts[bucketOf(v)]! += 1;
    this.total += 1;
    this.sum += v;
    if (v > this.maxUs) this.maxUs = v;
  }

  get count(): number {
    return this.total;
  }

  get sumUs(): number {
    return this.sum;
  }

  /** The value at or below which `fraction` of recordings fall (a bucket's midpoint), in µs. */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let i = 0; i < bucketCount; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(midpointOf(i), this.maxUs);
    }
    return this.maxUs;
  }

  summary(): LatencySummary {
    return { count: this.total, p50: this.percentile(0.5), p95: this.percentile(0.95), p99: this.percentile(0.99), max: this.maxUs };
  }

  /** Cumulative counts at the given upper bounds (µs), for Prometheus histogram buckets. */
  cumulativeAt(boundsUs: readonly number[]): number[] {
    return boundsUs.map((bound) => {
      let sum = 0;
      for (let i = 0; i < bucketCount && lowerOf(i) <= bound; i++) sum += this.counts[i]!;
      return sum;
    });
  }
}

function bucketOf(v: number): number {
  if (v < exactBelow) return v;
  const exponent = 31 - Math.clz32(v); // ≥ subBucketBits + 1
  const shift = exponent - subBucketBits;
  return exactBelow + (shift - 1) * subBuckets + ((v >>> shift) - subBuckets);
}

function lowerOf(index: number): number {
  if (index < exactBelow) return index;
  const shift = Math.floor((index - exactBelow) / subBuckets) + 1;
  const sub = ((index - exactBelow) % subBuckets) + subBuckets;
  return sub << shift >>> 0;
}

function midpointOf(index: number): number {
  if (index < exactBelow) return index;
  const shift = Math.floor((index - exactBelow) / subBuckets) + 1;
  return lowerOf(index) + (2 ** shift - 1) / 2;
}

/** One histogram per operation name, created on first use. */
export class LatencyRecorder {
  private readonly byOperation = new Map<string, LatencyHistogram>();

  /** The operation's histogram, created on first use; the server looks it up once per route, not per request. */
  histogramFor(operation: string): LatencyHistogram {
    let histogram = this.byOperation.get(operation);
    if (histogram === undefined) {
      histogram = new LatencyHistogram();
      this.byOperation.set(operation, histogram);
    }
    return histogram;
  }

  summaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [operation, histogram] of this.byOperation) if (histogram.count > 0) out[operation] = histogram.summary();
    return out;
  }
}
