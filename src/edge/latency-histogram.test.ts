import { describe, expect, it } from 'vitest';
import { LATENCY_BOUNDS, LatencyHistogram } from './latency-histogram.js';

describe('LatencyHistogram', () => {
  it('puts a latency in the first bucket whose bound it does not exceed, and above the last bound in the last', () => {
    expect(LatencyHistogram.bucket(0)).toBe(0);
    expect(LatencyHistogram.bucket(0.001)).toBe(0);
    expect(LatencyHistogram.bucket(0.0011)).toBe(1);
    expect(LatencyHistogram.bucket(10)).toBe(LATENCY_BOUNDS.length - 1);
    expect(LatencyHistogram.bucket(11)).toBe(LATENCY_BOUNDS.length);
  });

  it('counts one observation in the bucket it is given, so one lookup can feed a service and an instance', () => {
    const service = new LatencyHistogram();
    const instance = new LatencyHistogram();
    const bucket = LatencyHistogram.bucket(0.02);
    service.observe(0.02, bucket);
    instance.observe(0.02, bucket);
    expect([...service.counts]).toEqual([...instance.counts]);
    expect(service.counts[LATENCY_BOUNDS.indexOf(0.025)]).toBe(1);
    expect(instance.sum).toBeCloseTo(0.02);
  });

  it('reads quantiles over an interval from the difference of two readings', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.observe(0.0005);
    const mark = h.copy();
    for (let i = 0; i < 100; i++) h.observe(0.3);
    const interval = h.since(mark);
    expect(interval.count).toBe(100);
    // every request of the interval was in (0.25, 0.5]: the old fast ones do not pull it down
    expect(interval.quantile(0.5)).toBeGreaterThan(0.25);
    expect(interval.quantile(0.99)).toBeLessThanOrEqual(0.5);
    expect(new LatencyHistogram().quantile(0.5)).toBeUndefined();
  });
});
