// Properties of decide() over arbitrary policies, histories and signals (fast-check prints the
// seed and the shrunk case on failure).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScaleTarget } from '../spec/scale.js';
import { decide } from './decide.js';
import { AutoscaleHistory, type RecordedDecision } from './history.js';
import { autoscalePolicy, DEFAULT_TUNING, type AutoscalePolicy } from './policy.js';
import { burstFloor } from './burst.js';

const S = 1000;
const T0 = 1_700_000_000_000;

const target: fc.Arbitrary<ScaleTarget> = fc.oneof(
  fc.record({ type: fc.constant('rps' as const), value: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ type: fc.constant('concurrency' as const), value: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ type: fc.constant('cpu' as const), value: fc.integer({ min: 10, max: 100 }) }),
  fc.record({ type: fc.constant('metric' as const), metric: fc.constant('queue_depth'), value: fc.integer({ min: 1, max: 500 }) }),
);

const tuning = fc.oneof(
  fc.constant(DEFAULT_TUNING),
  fc.record({
    tolerance: fc.double({ min: 0, max: 0.3, noNaN: true }),
    stableWindow: fc.integer({ min: 2, max: 120 }).map((s) => s * S),
    panicWindow: fc.integer({ min: 1, max: 12 }).map((s) => s * S),
    surgeTolerance: fc.double({ min: 0, max: 0.5, noNaN: true }),
    panicThreshold: fc.double({ min: 1, max: 4, noNaN: true }),
    scaleDownStabilization: fc.integer({ min: 1, max: 600 }).map((s) => s * S),
    maxScaleUpRate: fc.double({ min: 1, max: 20, noNaN: true }),
    maxScaleDownRate: fc.double({ min: 1, max: 10, noNaN: true }),
    scaleUpCooldown: fc.integer({ min: 0, max: 120 }).map((s) => s * S),
    scaleDownCooldown: fc.integer({ min: 0, max: 120 }).map((s) => s * S),
  }),
);

const policy: fc.Arbitrary<AutoscalePolicy> = fc
  .record({
    min: fc.integer({ min: 0, max: 20 }),
    span: fc.integer({ min: 0, max: 40 }),
    target,
    idle: fc.integer({ min: 1, max: 600 }).map((s) => s * S),
    bursts: fc.array(fc.record({ replicas: fc.integer({ min: 0, max: 80 }), until: fc.integer({ min: -300, max: 3000 }) }), {
      maxLength: 2,
    }),
    tuning,
  })
  .map(({ min, span, target, idle, bursts, tuning }) =>
    autoscalePolicy(
      { min, max: Math.max(min, 1) + span, target, idle },
      { bursts: bursts.map((b) => ({ replicas: b.replicas, until: T0 + b.until * S })), tuning },
    ),
  );

/** Any past: arbitrary decisions at irregular times, as a history is plain data. */
const past = fc.array(
  fc.record({
    gap: fc.integer({ min: 0, max: 5000 }),
    from: fc.integer({ min: 0, max: 100 }),
    replicas: fc.integer({ min: 0, max: 100 }),
    demand: fc.integer({ min: 0, max: 100_000 }),
    remembered: fc.integer({ min: 0, max: 100 }),
    panicTriggered: fc.boolean(),
  }),
  { maxLength: 200 },
);

function historyOf(p: AutoscalePolicy, records: readonly (RecordedDecision & { gap: number })[]): { history: AutoscaleHistory; now: number } {
  const history = new AutoscaleHistory(p);
  let at = T0;
  for (const r of records) history.record((at += r.gap), r);
  return { history, now: at + S };
}

const signals = fc
  .record({ replicas: fc.integer({ min: 0, max: 120 }), readyShare: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.integer({ min: 0, max: 100_000 }) })
  .map(({ replicas, readyShare, value }) => ({ replicas, ready: Math.floor(replicas * readyShare), value }));

describe('decide: properties', () => {
  it('always lands in [min, max], a running burst raising the floor but never above max', () => {
    fc.assert(
      fc.property(policy, past, signals, (p, records, s) => {
        const { history, now } = historyOf(p, records);
        const { replicas } = decide(p, s, history, now);
        const floor = Math.min(Math.max(p.min, burstFloor(p.bursts, now)), p.max);
        expect(Number.isInteger(replicas)).toBe(true);
        expect(replicas).toBeGreaterThanOrEqual(floor);
        expect(replicas).toBeLessThanOrEqual(p.max);
      }),
      { numRuns: 500 },
    );
  });

  it('does not change the count while the load stays within the tolerance', () => {
    fc.assert(
      fc.property(
        policy.filter((p) => p.bursts.length === 0),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 900 }),
        (p, wanted, offset, seconds) => {
          const replicas = Math.min(Math.max(wanted, p.min, 1), p.max);
          // The same per-instance load, within the tolerance of the target, for `seconds`.
          const perInstance = p.target.value * (1 + offset * p.tolerance);
          const value = p.target.type === 'cpu' ? perInstance : perInstance * replicas;
          const demand = perInstance * replicas;
          const history = new AutoscaleHistory(p);
          for (let t = 1; t <= seconds; t++) {
            history.record(T0 + t * S, { from: replicas, replicas, demand, remembered: replicas, panicTriggered: false });
          }
          const decision = decide(p, { replicas, ready: replicas, value }, history, T0 + (seconds + 1) * S);
          expect(decision.replicas).toBe(replicas);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is monotone in demand: more load never asks for fewer instances', () => {
    fc.assert(
      fc.property(policy, past, signals, fc.integer({ min: 0, max: 100_000 }), (p, records, s, more) => {
        const { history, now } = historyOf(p, records);
        const low = decide(p, s, history, now).replicas;
        const high = decide(p, { ...s, value: s.value + more }, history, now).replicas;
        expect(high).toBeGreaterThanOrEqual(low);
      }),
      { numRuns: 1000 },
    );
  });
});
