import { describe, expect, it } from 'vitest';
import type { ScaleTarget } from '../spec/scale.js';
import { decide, type AutoscaleDecision } from './decide.js';
import { AutoscaleHistory } from './history.js';
import { autoscalePolicy, type AutoscalePolicy, type AutoscaleTuning } from './policy.js';
import type { Burst } from './burst.js';

const S = 1000;
const T0 = Date.UTC(2025, 0, 1);

function policyOf(
  options: { min?: number; max?: number; target?: ScaleTarget; idle?: number; bursts?: Burst[]; tuning?: Partial<AutoscaleTuning> } = {},
): AutoscalePolicy {
  return autoscalePolicy(
    {
      min: options.min ?? 1,
      max: options.max ?? 100,
      target: options.target ?? { type: 'rps', value: 10 },
      ...(options.idle === undefined ? {} : { idle: options.idle }),
    },
    { bursts: options.bursts ?? [], tuning: options.tuning ?? {} },
  );
}

/**
 * A service under an autoscaler, one tick per second: the count follows each decision and every
 * instance is ready at once (start delays belong to the simulator).
 */
class Service {
  readonly history: AutoscaleHistory;
  replicas: number;
  now = T0;
  last: AutoscaleDecision | undefined;

  constructor(
    readonly policy: AutoscalePolicy,
    replicas: number,
  ) {
    this.history = new AutoscaleHistory(policy);
    this.replicas = replicas;
  }

  /** Requests in flight and connections open at the edges (AutoscaleSignals.open); undefined: not reported. */
  open: number | undefined;

  /** The decision the next tick would take on `value` (the target's metric), not applied. */
  peek(value: number, ready = this.replicas): AutoscaleDecision {
    return decide(this.policy, { replicas: this.replicas, ready, value, ...(this.open === undefined ? {} : { open: this.open }) }, this.history, this.now + S);
  }

  /** `seconds` ticks at `value`; returns the last decision. */
  run(value: number, seconds = 1, ready?: number): AutoscaleDecision {
    for (let i = 0; i < seconds; i++) {
      const decision = this.peek(value, ready ?? this.replicas);
      this.now += S;
      this.history.record(this.now, decision);
      this.replicas = decision.replicas;
      this.last = decision;
    }
    return this.last!;
  }
}

/** A service that has run steadily at `value` for 10 minutes (a full stabilization window). */
function settled(policy: AutoscalePolicy, replicas: number, value: number): Service {
  const service = new Service(policy, replicas);
  service.run(value, 600);
  return service;
}

describe('decide: the load', () => {
  it('asks for ceil(total / target) once the stable window is past the tolerance', () => {
    const service = settled(policyOf(), 5, 50);
    expect(service.replicas).toBe(5);
    // +12 %: past the tolerance but inside the surge tolerance, so only the 60 s mean moves it,
    // once it is past 55 (after ~46 s).
    expect(service.run(56, 40).replicas).toBe(5);
    let ticks = 0;
    while (service.replicas === 5 && ticks++ < 20) service.run(56);
    expect(service.replicas).toBe(6);
    expect(service.last!.reason).toMatch(/^rps 55(\.\d)? over 5 instances at target 10 → 6$/);
  });

  it('holds within the tolerance, on both windows', () => {
    const service = settled(policyOf(), 10, 100);
    const decision = service.run(109, 120);
    expect(decision.replicas).toBe(10);
    expect(decision.reason).toMatch(/within tolerance: 109% of target/);
    expect(service.run(91, 400).replicas).toBe(10);
  });

  it('scales up within seconds when the 6 s window passes the surge tolerance', () => {
    const service = settled(policyOf(), 10, 100);
    const decision = service.run(130, 2); // 6 s mean 110 after 2 s: inside 15 %
    expect(decision.replicas).toBe(10);
    service.run(130, 1); // 115: not past it
    expect(service.replicas).toBe(10);
    const next = service.run(130, 1); // 120: past it, a few seconds in
    expect(next.replicas).toBe(12);
    expect(next.reason).toMatch(/surge: 6s demand past 15% over target/);
  });

  it('counts cpu as percent of requested over the ready instances', () => {
    const service = settled(policyOf({ target: { type: 'cpu', value: 70 } }), 4, 70);
    // 4 ready at 105 % = 420 % of one instance = 6 instances at 70 %
    expect(service.run(105, 6, 4).replicas).toBe(6);
    expect(service.last!.reason).toMatch(/^cpu 105% over 5 instances at target 70% → 6 \(surge: 6s demand past 15% over target\)$/);
    expect(settled(policyOf({ target: { type: 'cpu', value: 70 } }), 4, 70).run(105, 6, 2).replicas).toBe(4); // 2 × 105 %: less
  });

  it('scales on an external metric as a service total (queue depth per instance)', () => {
    const service = settled(policyOf({ target: { type: 'metric', metric: 'queue_depth', value: 100 } }), 2, 200);
    expect(service.run(1000, 60).replicas).toBe(10);
    expect(service.last!.reason).toMatch(/^queue_depth /);
  });
});

describe('decide: panic', () => {
  it('panics when the 6 s demand reaches 2× the ready capacity, and says so', () => {
    const service = settled(policyOf(), 8, 80);
    // New instances take a while: 8 stay the ready ones.
    const first = service.run(400, 1, 8); // 6 s mean 133: a surge, not yet a panic
    expect(first.panicking).toBe(false);
    expect(first.replicas).toBe(14);
    const decision = service.run(400, 1, 8); // 6 s mean 187 ≥ 2 × 80
    expect(decision.panicking).toBe(true);
    expect(decision.reason).toBe('rps 187 over 14 instances at target 10 → 19 (panic: demand 2.3× ready capacity)');
    expect(service.run(400, 4, 8).replicas).toBe(40);
  });

  it('measures panic against ready capacity, not instances still starting', () => {
    const service = settled(policyOf(), 8, 80);
    // 20 asked for, 8 ready: 6 s demand 200 is 2.5× the ready capacity.
    service.replicas = 20;
    const decision = service.peek(600, 8); // 6 s mean 167: 0.8× of 20 instances, 2.1× of 8
    expect(decision.panicTriggered).toBe(true);
  });

  it('does not scale down while panicking, nor for a stable window after the last trigger', () => {
    const policy = policyOf({ tuning: { scaleDownStabilization: 10 * S, scaleDownCooldown: 0 } });
    const service = settled(policy, 8, 80);
    service.run(400, 6, 8);
    expect(service.replicas).toBe(40);
    service.run(400, 10, 40);
    const panicAt = service.history.lastPanicAt!;
    service.run(80, 30);
    expect(service.replicas).toBe(40); // the load fell, the panic holds
    while (service.now - panicAt < 59 * S) service.run(80);
    expect(service.last!.panicking).toBe(true);
    expect(service.replicas).toBe(40);
    service.run(80, 2);
    expect(service.last!.panicking).toBe(false);
    expect(service.replicas).toBeLessThan(40);
  });
});

describe('decide: scale-down', () => {
  it('goes no lower than the highest recommendation of the last 5 minutes', () => {
    const service = settled(policyOf({ tuning: { scaleDownCooldown: 0 } }), 10, 100);
    service.run(40, 200);
    expect(service.replicas).toBe(10);
    expect(service.last!.reason).toMatch(/scale-down stabilized: 10 recommended within 5m/);
    service.run(40, 110);
    expect(service.replicas).toBe(4);
  });

  it('keeps the current count for the first 5 minutes of a history (a restarted leader)', () => {
    const service = new Service(policyOf({ tuning: { scaleDownCooldown: 0 } }), 10);
    service.run(20, 300); // the history starts at its first record, 299 s ago
    expect(service.replicas).toBe(10);
    service.run(20, 1);
    expect(service.replicas).toBe(5); // then at most halving per decision
    service.run(20, 1);
    expect(service.replicas).toBe(2);
  });

  it('never scales below what the last 6 s need', () => {
    const policy = policyOf({ tuning: { scaleDownCooldown: 0, scaleDownStabilization: 10 * S } });
    // A minute at 20 rps, the last 5 s at 80, 10 instances throughout (history is plain data).
    const history = new AutoscaleHistory(policy);
    for (let t = 1; t <= 60; t++) {
      history.record(T0 + t * S, { from: 10, replicas: 10, demand: t > 55 ? 80 : 20, remembered: 1, panicTriggered: false });
    }
    const decision = decide(policy, { replicas: 10, ready: 10, value: 80 }, history, T0 + 61 * S);
    expect(decision.inputs['stable_recommendation']).toBe(3); // the minute says 3
    expect(decision.replicas).toBe(8); // the last 6 s say 8
  });

  it('halves at most per decision', () => {
    const tuning = { panicWindow: S, stableWindow: 10 * S, scaleDownStabilization: 10 * S, scaleDownCooldown: 0 };
    const service = settled(policyOf({ tuning }), 40, 400);
    service.run(10, 9);
    expect(service.replicas).toBe(40);
    service.run(10, 1);
    expect(service.replicas).toBe(20);
    expect(service.last!.reason).toMatch(/scale-down limited to ÷2 per decision/);
    service.run(10, 1);
    expect(service.replicas).toBe(10);
  });
});

describe('decide: rates and cooldowns', () => {
  it('multiplies by at most the scale-up rate per decision', () => {
    const service = settled(policyOf({ max: 1000 }), 2, 20);
    const decision = service.run(2000, 6);
    expect(decision.replicas).toBe(200);
    const first = new Service(policyOf({ max: 1000 }), 2);
    expect(first.run(2000, 6).replicas).toBe(200);
    expect(settled(policyOf({ max: 1000, tuning: { maxScaleUpRate: 3 } }), 2, 20).run(2000).replicas).toBe(6);
  });

  it('waits out the scale-up cooldown unless panicking', () => {
    const service = settled(policyOf({ tuning: { scaleUpCooldown: 30 * S } }), 10, 100);
    service.run(125, 6);
    expect(service.replicas).toBe(12);
    service.run(150, 6);
    expect(service.replicas).toBe(12);
    expect(service.last!.reason).toMatch(/scale-up cooldown: 2\ds left/);
    service.run(400, 6, 12);
    expect(service.replicas).toBe(40); // panic skips it
  });

  it('does not scale down within the scale-down cooldown of a scale-up', () => {
    const service = settled(policyOf({ tuning: { scaleDownStabilization: 5 * S } }), 10, 100);
    service.run(130, 10);
    const up = service.replicas;
    expect(up).toBeGreaterThan(10);
    const decision = service.run(50, 20);
    expect(decision.replicas).toBe(up);
    expect(decision.reason).toMatch(/scale-down cooldown: \d+s left/);
    service.run(50, 40);
    expect(service.replicas).toBeLessThan(up);
  });
});

describe('decide: bounds and bursts', () => {
  it('clamps to [min, max] and says which bound applied', () => {
    const service = settled(policyOf({ min: 3, max: 12 }), 3, 10);
    expect(service.last!.replicas).toBe(3);
    expect(service.run(10_000, 6).replicas).toBe(12);
    expect(service.last!.reason).toMatch(/max 12/);
  });

  it('raises the floor to a burst until it expires, never above max', () => {
    const until = T0 + 700 * S;
    const service = settled(policyOf({ min: 1, max: 6, bursts: [{ replicas: 4, until }] }), 1, 5);
    expect(service.replicas).toBe(4);
    expect(service.last!.reason).toMatch(/burst floor 4 until 2025-01-01T00:11:40.000Z/);
    service.run(5, 400);
    expect(service.replicas).toBe(1);
    const big = settled(policyOf({ min: 1, max: 6, bursts: [{ replicas: 9, until }] }), 1, 5);
    expect(big.replicas).toBe(6);
  });
});

describe('decide: scale to zero', () => {
  const idle = 120 * S;

  it('keeps one instance until idle, then goes to zero, and back on the first request', () => {
    const service = new Service(policyOf({ min: 0, idle, tuning: { scaleDownCooldown: 0 } }), 3);
    service.run(20, 300);
    service.run(0, 119);
    expect(service.replicas).toBe(2); // stabilized: 2 were needed within 5 minutes
    const gone = service.run(0, 1); // idle wins over stabilization: the operator asked for it
    expect(gone.replicas).toBe(0);
    expect(gone.reason).toMatch(/\(idle 2m: scale to zero\)$/);
    expect(service.run(0, 600).replicas).toBe(0);
    const back = service.run(1, 1, 0);
    expect(back.replicas).toBe(1);
    expect(back.reason).toMatch(/scale from zero: demand arrived/);
  });

  it('scales from zero straight to what the demand needs', () => {
    const service = new Service(policyOf({ min: 0, idle }), 0);
    service.run(0, 200, 0);
    expect(service.peek(300, 0).replicas).toBe(5); // 6 s mean 50 → 5 at target 10
  });

  it('does not go to zero while work is open at the edges though the target reads 0 (a WebSocket under an rps target), and goes idle from when it closed', () => {
    const service = new Service(policyOf({ min: 0, idle, tuning: { scaleDownCooldown: 0 } }), 1);
    service.open = 1; // one long connection, no requests
    expect(service.run(0, 600).replicas).toBe(1);
    service.open = 0;
    expect(service.run(0, 119).replicas).toBe(1); // idle counts from the connection's end
    const gone = service.run(0, 1);
    expect(gone.replicas).toBe(0);
    expect(gone.reason).toMatch(/\(idle 2m: scale to zero\)$/);
  });

  it('does not go to zero when min is above zero', () => {
    const service = new Service(policyOf({ min: 1, idle, tuning: { scaleDownCooldown: 0 } }), 2);
    expect(service.run(0, 2000).replicas).toBe(1);
  });
});

describe('decide: purity', () => {
  it('gives the same decision for the same inputs and does not touch the history', () => {
    const service = settled(policyOf(), 10, 100);
    const before = JSON.stringify(service.history);
    const a = service.peek(250);
    const b = service.peek(250);
    expect(a).toEqual(b);
    expect(JSON.stringify(service.history)).toBe(before);
  });

  it('refuses a history built for other windows', () => {
    const history = new AutoscaleHistory(policyOf());
    const other = policyOf({ tuning: { stableWindow: 30 * S } });
    expect(() => decide(other, { replicas: 1, ready: 1, value: 1 }, history, T0)).toThrow(/other windows/);
  });

  it('carries its inputs as flat numbers for the AutoscaleDecided event', () => {
    const decision = settled(policyOf(), 10, 100).peek(100);
    for (const value of Object.values(decision.inputs)) expect(typeof value).toBe('number');
    expect(decision.inputs).toMatchObject({ demand: 100, target: 10, replicas: 10, ready: 10 });
  });
});
