// decide(policy, signals, history, now) -> { replicas, reason, inputs }: the whole autoscaling
// algorithm of DESIGN §5 as one pure function. No clock (now is given), no I/O, no mutation: the
// caller appends the decision to the history with history.record(now, decision). Each numbered
// step below narrows `replicas`; the bounds come last so nothing can leave them.
import { formatDuration } from '../core/quantity.js';
import type { AutoscaleHistory, RecordedDecision } from './history.js';
import type { AutoscalePolicy } from './policy.js';
import { burstFloor } from './burst.js';
import { figure, reasonLine } from './reason.js';
import { totalDemand, type AutoscaleSignals } from './signals.js';

export interface AutoscaleDecision extends RecordedDecision {
  /** The count the load asked for, before stabilization, rates, cooldowns and bounds. */
  readonly recommendation: number;
  /** One line for people: the load, the count before and after, and every rule that applied. */
  readonly reason: string;
  /** The figures the decision was made from, flat so they fit AutoscaleDecided.signals. */
  readonly inputs: Readonly<Record<string, number>>;
  readonly panicking: boolean;
}

/** ceil that forgives float noise: 20.000000000000004 instances is 20. */
function ceilCount(x: number): number {
  return Math.ceil(x - 1e-9);
}

/** Whether a mean load is within the tolerance of what `current` instances carry at target. */
function withinTolerance(load: number, target: number, current: number, tolerance: number): boolean {
  return current > 0 && Math.abs(load / (current * target) - 1) <= tolerance + 1e-9; // float noise is not load
}

/** The count a mean load asks for: the current count within the tolerance, else ceil(load / target). */
function recommend(load: number, target: number, current: number, tolerance: number): number {
  return withinTolerance(load, target, current, tolerance) ? current : Math.max(0, ceilCount(load / target));
}

const seconds = (ms: number): string => formatDuration(Math.ceil(ms / 1000) * 1000);

export function decide(
  policy: AutoscalePolicy,
  signals: AutoscaleSignals,
  history: AutoscaleHistory,
  now: number,
): AutoscaleDecision {
  if (!history.fits(policy)) {
    throw new Error('autoscale history was built for other windows than this policy; start a new history');
  }
  const target = policy.target.value;
  const current = signals.replicas;
  const demand = totalDemand(policy.target, signals);
  const busy = (signals.open ?? 0) > 0;
  const stable = history.stableMean(now, demand);
  const panic = history.panicMean(now, demand);
  const notes: string[] = [];

  // 1. Recommend. The stable mean (60 s) is steady; the panic mean (6 s) sees a change within
  //    seconds and is about 3× as noisy. Each asks for ceil(mean / target), or for the current
  //    count while its mean is within the tolerance (noise moves neither).
  const stableRec = recommend(stable, target, current, policy.tolerance);
  const panicRec = recommend(panic, target, current, policy.tolerance);
  //    Panic (Knative's KPA): the 6 s demand reaches panicThreshold × the capacity ready now; it
  //    lasts a stable window after the last trigger.
  const surge = panic / (Math.max(signals.ready, 1) * target);
  const panicTriggered = current > 0 && surge >= policy.panicThreshold;
  const panicking =
    panicTriggered || (current > 0 && history.lastPanicAt !== undefined && now - history.lastPanicAt < policy.stableWindow);
  //    Up: on the stable window beyond the tolerance, or at once on the 6 s window when panicking
  //    or when it is past the wider surge tolerance (from zero, any demand is a surge). Otherwise
  //    down, but never below what the last 6 s need: the stable mean remembers a load that has
  //    already gone, not one to come.
  const surging = current === 0 ? panic > 0 : panic / (current * target) > 1 + policy.surgeTolerance;
  const upRec = panicking || surging ? Math.max(stableRec, panicRec) : stableRec;
  const recommendation = upRec > current ? upRec : Math.min(current, panicRec);
  //    What scale-down stabilization remembers of this tick: the recommendation, except while
  //    panicking, where the panic rule already holds the count and remembering a short spike's
  //    peak for 5 more minutes would only pay for instances after it has gone: then the count
  //    both windows agree on.
  const remembered = panicking ? Math.min(stableRec, panicRec) : recommendation;
  let replicas = recommendation;
  if (panicTriggered) notes.push(`panic: demand ${figure(surge)}× ready capacity`);
  else if (panicking) notes.push(`panic: within ${formatDuration(policy.stableWindow)} of the last surge`);
  else if (surging && current > 0 && upRec > current) notes.push(`surge: ${formatDuration(policy.panicWindow)} demand past ${figure(policy.surgeTolerance * 100)}% over target`);

  // 2. No scale-down while panicking: the surge may come back before the stable mean shows it.
  if (panicking && replicas < current) replicas = current;

  // 3. Scale-down stabilization: no lower than the highest remembered recommendation of the
  //    window, so a dip does not remove instances the next minutes need again. A history younger
  //    than the window counts the current count as recommended at its start (as the HPA does),
  //    so a restarted control plane does not scale down on a few samples.
  if (replicas < current) {
    const young = history.firstAt === undefined || now - history.firstAt < policy.scaleDownStabilization;
    const highest = Math.max(remembered, history.maxRecommendation(now) ?? 0, young ? current : 0);
    const stabilized = Math.min(current, highest);
    if (stabilized > replicas) {
      notes.push(`scale-down stabilized: ${highest} recommended within ${formatDuration(policy.scaleDownStabilization)}`);
      replicas = stabilized;
    }
  }

  // 4. Rates: bound one decision's step so a bogus sample cannot empty or flood the service.
  if (replicas > current) {
    const limit = Math.ceil(Math.max(current, 1) * policy.maxScaleUpRate);
    if (replicas > limit) {
      notes.push(`scale-up limited to ×${figure(policy.maxScaleUpRate)} per decision`);
      replicas = limit;
    }
  } else if (replicas < current) {
    const limit = Math.floor(current / policy.maxScaleDownRate);
    if (replicas < limit) {
      notes.push(`scale-down limited to ÷${figure(policy.maxScaleDownRate)} per decision`);
      replicas = limit;
    }
  }

  // 5. Cooldowns after a scale-up. Panic and scaling from zero skip the scale-up one: waiting is
  //    what they exist to avoid. The scale-down one lets the stable window see the new load.
  const sinceUp = history.lastScaleUpAt === undefined ? Infinity : now - history.lastScaleUpAt;
  if (replicas > current && current > 0 && !panicking && sinceUp < policy.scaleUpCooldown) {
    notes.push(`scale-up cooldown: ${seconds(policy.scaleUpCooldown - sinceUp)} left`);
    replicas = current;
  }
  if (replicas < current && sinceUp < policy.scaleDownCooldown) {
    notes.push(`scale-down cooldown: ${seconds(policy.scaleDownCooldown - sinceUp)} left`);
    replicas = current;
  }

  // 6. Zero. With min 0 a service keeps one instance until it has seen no demand and no open work
  //    for `idle`, then goes to zero; any demand brings it back at once (the edge holds the first
  //    request). Open work counts whatever the target: a connection that carries no requests
  //    (a WebSocket, a TCP client's pool) reads 0 rps, and going to zero would cut it.
  if (policy.min === 0) {
    const quietSince = history.lastDemandAt ?? history.firstAt;
    const idle = demand === 0 && !busy && quietSince !== undefined && now - quietSince >= policy.idle;
    if (idle) {
      // Idle bypasses stabilization, rates and cooldowns: a note of those would name a rule that did not hold.
      if (current > 0) notes.splice(0, notes.length, `idle ${formatDuration(policy.idle)}: scale to zero`);
      replicas = 0;
    } else if (current === 0 && demand > 0) {
      replicas = Math.max(replicas, 1);
      notes.push('scale from zero: demand arrived');
    } else if (current > 0 && replicas < 1) {
      replicas = 1;
    }
  }

  // 7. Bounds last: the spec is authoritative, and a burst raises the floor until it expires.
  const burst = burstFloor(policy.bursts, now);
  const floor = Math.min(Math.max(policy.min, burst), policy.max);
  if (replicas < floor) {
    const until = burst > policy.min ? policy.bursts.find((b) => b.replicas === burst && now < b.until)?.until : undefined;
    notes.push(until !== undefined ? `burst floor ${burst} until ${new Date(until).toISOString()}` : `min ${policy.min}`);
    replicas = floor;
  }
  if (replicas > policy.max) {
    notes.push(`max ${policy.max}`);
    replicas = policy.max;
  }

  if (replicas === current && notes.length === 0 && current > 0) {
    notes.push(
      withinTolerance(stable, target, current, policy.tolerance)
        ? `within tolerance: ${figure((stable / (current * target)) * 100)}% of target`
        : `the last ${formatDuration(policy.panicWindow)} need ${panicRec}`,
    );
  }
  const observed = panicking || surging ? panic : stable;
  const shown = policy.target.type === 'cpu' ? observed / Math.max(signals.ready, 1) : observed;
  return {
    from: current,
    replicas,
    demand,
    ...(busy ? { busy } : {}),
    recommendation,
    remembered,
    panicTriggered,
    panicking,
    reason: reasonLine(policy.target, shown, current, replicas, notes),
    inputs: {
      value: signals.value,
      demand,
      stable_mean: stable,
      panic_mean: panic,
      target,
      replicas: current,
      ready: signals.ready,
      stable_recommendation: stableRec,
      panic_recommendation: panicRec,
      recommendation,
      floor,
      max: policy.max,
    },
  };
}
