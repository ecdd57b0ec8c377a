// Sample streams for the windowed aggregates' property tests: irregular times, gaps of 0 to 3 s,
// values up to 10^6.
import fc from 'fast-check';

export const samples = fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 1_000_000 })), {
  minLength: 1,
  maxLength: 300,
});

/** The sample times and values of a drawn array of [gap, value] steps. */
export function timeline(steps: [number, number][]): { at: number; value: number }[] {
  let at = 1_000_000;
  return steps.map(([gap, value]) => ({ at: (at += gap), value }));
}
