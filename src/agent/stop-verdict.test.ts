import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stopVerdict, type LeavingInstance } from './stop-verdict.js';

const leaving: LeavingInstance = { leftAt: 10_000, minimumMs: 2_000, graceMs: 30_000 };

describe('stopVerdict', () => {
  it('waits out the minimum without asking the edges, drained or not', () => {
    expect(stopVerdict(leaving, false, 10_000)).toEqual({ action: 'wait', until: 12_000 });
    expect(stopVerdict(leaving, true, 11_999)).toEqual({ action: 'wait', until: 12_000 });
  });

  it('then asks the edges until the grace end, and stops as soon as they are done', () => {
    expect(stopVerdict(leaving, false, 12_000)).toEqual({ action: 'ask', until: 40_000 });
    expect(stopVerdict(leaving, true, 12_000)).toEqual({ action: 'stop', reason: 'drained' });
    expect(stopVerdict(leaving, true, 25_000)).toEqual({ action: 'stop', reason: 'drained' });
  });

  it('stops at the grace end when the edges never say drained', () => {
    expect(stopVerdict(leaving, false, 39_999)).toEqual({ action: 'ask', until: 40_000 });
    expect(stopVerdict(leaving, false, 40_000)).toEqual({ action: 'stop', reason: 'grace' });
  });

  it('keeps the minimum when the grace is shorter: the floor is about routing', () => {
    const brief = { ...leaving, graceMs: 500 };
    expect(stopVerdict(brief, false, 10_600)).toEqual({ action: 'wait', until: 12_000 });
    expect(stopVerdict(brief, false, 12_000)).toEqual({ action: 'stop', reason: 'grace' });
    expect(stopVerdict({ ...leaving, graceMs: 0 }, true, 12_000)).toEqual({ action: 'stop', reason: 'drained' });
  });

  it('with no minimum, asks at once', () => {
    expect(stopVerdict({ ...leaving, minimumMs: 0 }, false, 10_000)).toEqual({ action: 'ask', until: 40_000 });
  });

  it('never stops before the minimum, always stops by max(minimum, grace), and stops once drained past the minimum (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: -5_000, max: 80_000 }),
        fc.boolean(),
        (minimumMs, graceMs, elapsed, drained) => {
          const instance = { leftAt: 1_000_000, minimumMs, graceMs };
          const now = instance.leftAt + elapsed;
          const verdict = stopVerdict(instance, drained, now);
          const end = Math.max(minimumMs, graceMs);
          if (elapsed < minimumMs) expect(verdict).toEqual({ action: 'wait', until: instance.leftAt + minimumMs });
          else if (drained) expect(verdict).toEqual({ action: 'stop', reason: 'drained' });
          else if (elapsed >= end) expect(verdict).toEqual({ action: 'stop', reason: 'grace' });
          else expect(verdict).toEqual({ action: 'ask', until: instance.leftAt + end });
          // a wait always ends in the future, so the agent's loop always moves on
          if (verdict.action !== 'stop') expect(verdict.until).toBeGreaterThan(now);
          // once a stop, always a stop: later, or with the edges done as well
          if (verdict.action === 'stop') {
            expect(stopVerdict(instance, drained, now + 1).action).toBe('stop');
            expect(stopVerdict(instance, true, now).action).toBe('stop');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
