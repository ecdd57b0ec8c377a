import { describe, expect, it } from 'vitest';
import { generatedTraces } from './trace-generate.js';

describe('generated traces', () => {
  it('are whole non-negative rps, one per second, and the same for the same seed', () => {
    const a = generatedTraces(5);
    const b = generatedTraces(5);
    expect(a.map((t) => t.name)).toEqual(['steady', 'diurnal', 'step-10x', 'spike-and-drop', 'noisy-flat', 'sawtooth']);
    for (const [i, trace] of a.entries()) {
      expect(trace.rps).toEqual(b[i]!.rps);
      expect(trace.rps.every((v) => v >= 0 && Number.isInteger(v))).toBe(true);
    }
    expect(generatedTraces(6)[1]!.rps).not.toEqual(a[1]!.rps);
  });

  it('have the shapes their names promise', () => {
    const byName = Object.fromEntries(generatedTraces(5).map((t) => [t.name, t.rps]));
    const step = byName['step-10x']!;
    const avg = (xs: Float64Array, from: number, to: number) => xs.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
    expect(avg(step, 1000, 2600) / avg(step, 0, 800)).toBeCloseTo(10, 0);
    expect(new Set(byName['steady']!).size).toBe(1);
    const flat = byName['noisy-flat']!;
    expect(avg(flat, 0, flat.length)).toBeCloseTo(1000, -1);
  });
});
