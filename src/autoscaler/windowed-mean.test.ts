import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WindowedMean } from './windowed-mean.js';

// Irregular sample times: gaps of 0 to 3 s, values up to 10^6.
const samples = fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 1_000_000 })), {
  minLength: 1,
  maxLength: 300,
});

function timeline(steps: [number, number][]): { at: number; value: number }[] {
  let at = 1_000_000;
  return steps.map(([gap, value]) => ({ at: (at += gap), value }));
}

describe('WindowedMean', () => {
  it('sums exactly what a rescan of the window sums, also when read after the last push', () => {
    fc.assert(
      fc.property(samples, fc.integer({ min: 1000, max: 60_000 }), fc.integer({ min: 0, max: 5000 }), (steps, span, later) => {
        const window = new WindowedMean(span, 2);
        const seen = timeline(steps);
        for (const s of seen) window.push(s.at, s.value);
        const now = seen[seen.length - 1]!.at + later;
        const inside = seen.filter((s) => s.at > now - span);
        const { sum, count } = window.read(now);
        expect(count).toBe(inside.length);
        expect(sum).toBe(inside.reduce((a, s) => a + s.value, 0));
      }),
    );
  });
});
