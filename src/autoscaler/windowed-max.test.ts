import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samples, timeline } from './timeline.fixture.js';
import { WindowedMax } from './windowed-max.js';

describe('WindowedMax', () => {
  it('is the maximum of a rescan of the window', () => {
    fc.assert(
      fc.property(samples, fc.integer({ min: 1000, max: 300_000 }), fc.integer({ min: 0, max: 5000 }), (steps, span, later) => {
        const window = new WindowedMax(span, 2);
        const seen = timeline(steps);
        for (const s of seen) window.push(s.at, s.value);
        const now = seen[seen.length - 1]!.at + later;
        const inside = seen.filter((s) => s.at > now - span).map((s) => s.value);
        expect(window.read(now)).toBe(inside.length === 0 ? undefined : Math.max(...inside));
      }),
    );
  });
});
