import { describe, expect, it } from 'vitest';
import { findSteps, HORIZON, stepResponse } from './trace-steps.js';

const flat = (n: number, v: number) => new Array<number>(n).fill(v);

describe('steps', () => {
  it('finds a clean step at the second it happens, not before', () => {
    const trace = [...flat(100, 200), ...flat(100, 2000)];
    expect(findSteps(trace, 100)).toEqual([{ at: 100, from: 200, to: 2000 }]);
  });

  it('ignores ramps, falls, noise below one instance and rises under 50 %', () => {
    const ramp = Array.from({ length: 600 }, (_, t) => 200 + 3 * t);
    expect(findSteps(ramp, 100)).toEqual([]);
    expect(findSteps([...flat(100, 2000), ...flat(100, 200)], 100)).toEqual([]);
    expect(findSteps([...flat(100, 10), ...flat(100, 60)], 100)).toEqual([]); // +50 rps < one instance
    expect(findSteps([...flat(100, 1000), ...flat(100, 1400)], 100)).toEqual([]);
  });

  it('times the catch-up: seconds until ready capacity covers the new level', () => {
    const steps = [{ at: 10, from: 200, to: 2000 }];
    const ready = new Int32Array(100).fill(2);
    ready.fill(20, 22);
    expect(stepResponse(steps, ready, 100)).toEqual({ steps: 1, p50: 12, max: 12, unreached: 0 });
    expect(stepResponse(steps, new Int32Array(1000).fill(2), 100)).toEqual({ steps: 1, p50: HORIZON, max: HORIZON, unreached: 1 });
    expect(stepResponse([], ready, 100)).toEqual({ steps: 0, p50: null, max: null, unreached: 0 });
  });
});
