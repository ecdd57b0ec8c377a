import { describe, expect, it } from 'vitest';
import { autoscalePolicy } from '../autoscaler/policy.js';
import { runComparison } from './autoscale-compare.js';
import { stepTrace } from './trace-generate.js';
import { replay, type LoadObservation, type TraceAutoscaler } from './trace-replay.js';

const fixed = (plan: (o: LoadObservation) => number): TraceAutoscaler & { seen: LoadObservation[] } => {
  const seen: LoadObservation[] = [];
  return { name: 'plan', seen, tick: (o) => (seen.push(o), plan(o)) };
};
const model = { capacity: 100, startDelay: { min: 5, max: 5 }, seed: 1 };

describe('replay', () => {
  it('counts instance-seconds, overload against ready capacity and changes', () => {
    const trace = [50, 150, 250, 50];
    const run = replay(trace, fixed(() => 2), model, 2);
    expect(run.instanceSeconds).toBe(8);
    expect(run.overloadSeconds).toBe(1); // only 250 > 2 × 100
    expect(run.replicaChanges).toBe(0);
  });

  it('makes a new instance ready after the start delay, counting it alive while it starts', () => {
    const autoscaler = fixed((o) => (o.second === 0 ? 2 : o.replicas));
    const run = replay(new Array(10).fill(150), autoscaler, model, 1);
    // asked for at the end of second 0, it serves from second 0 + 1 + 5 = 6
    expect(Array.from(run.ready)).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(autoscaler.seen[3]).toMatchObject({ replicas: 2, ready: 1 });
    expect(run.overloadSeconds).toBe(6);
    expect(run.instanceSeconds).toBe(1 + 9 * 2);
    expect(run.replicaChanges).toBe(1);
  });

  it('draws start delays from the seeded range', () => {
    const run = replay(new Array(30).fill(0), fixed((o) => (o.second === 0 ? 21 : o.replicas)), { ...model, startDelay: { min: 5, max: 10 } }, 1);
    const readyAt = (count: number) => Array.from(run.ready).findIndex((r) => r >= count);
    expect(readyAt(2)).toBeGreaterThanOrEqual(6);
    expect(readyAt(21)).toBeLessThanOrEqual(11);
    expect(replay(new Array(30).fill(0), fixed((o) => (o.second === 0 ? 21 : o.replicas)), { ...model, startDelay: { min: 5, max: 10 } }, 1).ready).toEqual(run.ready);
  });

  it('removes starting instances before ready ones', () => {
    const autoscaler = fixed((o) => (o.second === 0 ? 4 : o.second === 2 ? 2 : o.replicas));
    const run = replay(new Array(10).fill(0), autoscaler, model, 2);
    expect(Array.from(run.ready)).toEqual(new Array(10).fill(2));
  });
});

describe('berth against the HPA on a 10× step', () => {
  it('overloads for a fraction of the time at a similar cost', () => {
    const result = runComparison(stepTrace(3), {
      model: { capacity: 100, startDelay: { min: 5, max: 10 }, seed: 3 },
      policy: autoscalePolicy({ min: 1, max: 1000, target: { type: 'rps', value: 70 } }),
      target: 70,
      bounds: { min: 1, max: 1000 },
    });
    expect(result.steps).toBe(1);
    expect(result.berth.overload_seconds).toBeLessThan(0.5 * result.hpa.overload_seconds);
    expect(result.berth.instance_seconds).toBeLessThan(1.1 * result.hpa.instance_seconds);
    expect(result.berth.time_to_adequate_capacity_s.max!).toBeLessThanOrEqual(20);
  });
});
