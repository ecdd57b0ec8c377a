// Request latency in fixed buckets: one array increment per request, cheap enough for the
// per-connection fast path, and what both the Prometheus histogram and the per-second report to
// the control plane are read from.

/** Upper bounds in seconds, as Prometheus `le` labels; the last bucket is +Inf. */
export const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export class LatencyHistogram {
  /** per bucket, not cumulative; the last is above every bound */
  readonly counts = new Float64Array(LATENCY_BOUNDS.length + 1);
  count = 0;
  sum = 0;

  /** The bucket `seconds` falls in: found once per request, then added to each histogram it counts in. */
  static bucket(seconds: number): number {
    let i = 0;
    while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]!) i++;
    return i;
  }

  observe(seconds: number, bucket = LatencyHistogram.bucket(seconds)): void {
    this.counts[bucket]!++;
    this.count++;
    this.sum += seconds;
  }

  copy(): LatencyHistogram {
    const copy = new LatencyHistogram();
    copy.counts.set(this.counts);
    copy.count = this.count;
    copy.sum = this.sum;
    return copy;
  }

  /** What was observed since `earlier` (a copy of this histogram taken before). */
  since(earlier: LatencyHistogram): LatencyHistogram {
    const delta = new LatencyHistogram();
    for (let i = 0; i < this.counts.length; i++) delta.counts[i] = this.counts[i]! - earlier.counts[i]!;
    delta.count = this.count - earlier.count;
    delta.sum = this.sum - earlier.sum;
    return delta;
  }

  /** The q-quantile in seconds, interpolated within its bucket (as Prometheus' histogram_quantile). */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i]!;
      if (seen + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : LATENCY_BOUNDS[i - 1]!;
        // above the last bound nothing is known but the bound itself
        if (i === LATENCY_BOUNDS.length) return lower;
        const upper = LATENCY_BOUNDS[i]!;
        return lower + (upper - lower) * ((rank - seen) / inBucket);
      }
      seen += inBucket;
    }
    return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1];
  }
}
