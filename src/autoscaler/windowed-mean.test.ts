import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samples, timeline } from './timeline.fixture.js';
import { WindowedMean } from './windowed-mean.js';

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
