import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { normal, poisson } from './trace-draws.js';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('draws', () => {
  it('draws Poisson counts with the asked mean', () => {
    const random = seededRandom(3);
    for (const m of [0.5, 5, 50]) {
      const draws = Array.from({ length: 20_000 }, () => poisson(random, m));
      expect(mean(draws) / m).toBeCloseTo(1, 1);
    }
    expect(poisson(random, 0)).toBe(0);
  });

  it('draws standard normals', () => {
    const random = seededRandom(4);
    const draws = Array.from({ length: 20_000 }, () => normal(random));
    const m = mean(draws);
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(mean(draws.map((x) => (x - m) ** 2))).toBeCloseTo(1, 1);
  });
});
