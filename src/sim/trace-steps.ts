// Steps in a load trace and how long an autoscaler takes to catch up with each.
//
// A step starts at second t when the mean demand of the STEP_HOLD seconds from t is at least
// STEP_RISE × the mean of the STEP_BEFORE seconds before t, and higher by at least one instance's
// capacity (so the noise of a near-idle service is not a step). Of a run of consecutive qualifying
// seconds, the one with the largest rise is the step (a clean step qualifies for a few seconds
// before it, because the window after t already contains it). Demand then has to rise by half
// within STEP_BEFORE seconds and hold for STEP_HOLD seconds.
//
// Time to adequate capacity: seconds from the step until ready capacity first covers the step's
// new level (its STEP_HOLD-second mean). A step never covered within HORIZON seconds counts as
// HORIZON and is reported as unreached.

export const STEP_RISE = 1.5;
export const STEP_BEFORE = 10;
export const STEP_HOLD = 30;
export const HORIZON = 600;

export interface Step {
  readonly at: number;
  /** mean demand before and after */
  readonly from: number;
  readonly to: number;
}

export function findSteps(trace: ArrayLike<number>, capacity: number): Step[] {
  const n = trace.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + trace[i]!;
  const mean = (from: number, to: number): number => (prefix[to]! - prefix[from]!) / (to - from);

  const steps: Step[] = [];
  let best: Step | undefined;
  for (let t = STEP_BEFORE; t + STEP_HOLD <= n; t++) {
    const from = mean(t - STEP_BEFORE, t);
    const to = mean(t, t + STEP_HOLD);
    const qualifies = to >= STEP_RISE * from && to - from >= capacity;
    if (qualifies) {
      if (best === undefined || to / Math.max(from, 1e-9) > best.to / Math.max(best.from, 1e-9)) best = { at: t, from, to };
    } else if (best !== undefined) {
      steps.push(best);
      best = undefined;
    }
  }
  if (best !== undefined) steps.push(best);
  return steps;
}

export interface StepResponse {
  readonly steps: number;
  /** seconds to adequate capacity, p50 and max over the steps (null without steps) */
  readonly p50: number | null;
  readonly max: number | null;
  /** steps whose level was not covered within HORIZON seconds */
  readonly unreached: number;
}

export function stepResponse(steps: readonly Step[], ready: Int32Array, capacity: number): StepResponse {
  const times: number[] = [];
  let unreached = 0;
  for (const step of steps) {
    const end = Math.min(ready.length, step.at + HORIZON);
    let t = step.at;
    while (t < end && ready[t]! * capacity < step.to) t++;
    if (t < end) times.push(t - step.at);
    else {
      unreached++;
      times.push(HORIZON);
    }
  }
  times.sort((a, b) => a - b);
  const p50 = times.length === 0 ? null : times[Math.floor((times.length - 1) / 2)]!;
  const max = times.length === 0 ? null : times[times.length - 1]!;
  return { steps: steps.length, p50, max, unreached };
}
