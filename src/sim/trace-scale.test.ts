import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { poisson } from './trace-draws.js';
import { multiplyTrace, scaleTraffic } from './trace-scale.js';

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;

describe('scaling a trace', () => {
  it('multiplies each second', () => {
    expect(Array.from(multiplyTrace([0, 1, 3], 100))).toEqual([0, 100, 300]);
  });

  it('scales traffic: same mean rate ×K, the noise of a K-times busier service, seeded', () => {
    const random = seededRandom(1);
    const counts = Array.from({ length: 20_000 }, () => poisson(random, 0.7));
    const scaled = scaleTraffic(counts, 100, { seed: 2 });
    expect(mean(scaled) / (100 * mean(counts))).toBeCloseTo(1, 1);
    // per-second spread: √70 ≈ 8 around 70, not the ×100 counting noise (≈ 84)
    const m = mean(scaled);
    const sd = Math.sqrt(mean(Array.from(scaled, (x) => (x - m) ** 2)));
    expect(sd).toBeLessThan(20);
    expect(scaleTraffic(counts, 100, { seed: 2 })).toEqual(scaled);
  });
});
