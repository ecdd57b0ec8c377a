// One trace, two autoscalers, the same instance model: berth's decide() against the Kubernetes
// HPA, and whether berth meets its goals on that trace.
import type { AutoscalePolicy } from '../autoscaler/policy.js';
import { BerthAutoscaler } from './trace-berth.js';
import type { Trace } from './trace-generate.js';
import { HorizontalPodAutoscaler, HPA_DEFAULTS } from './trace-hpa.js';
import { replay, type InstanceModel, type TraceAutoscaler } from './trace-replay.js';
import { findSteps, stepResponse, type StepResponse, type Step } from './trace-steps.js';

export interface RunMetrics {
  readonly instance_seconds: number;
  readonly overload_seconds: number;
  readonly time_to_adequate_capacity_s: Omit<StepResponse, 'steps'>;
  readonly replica_changes: number;
  readonly peak_replicas: number;
}

export interface Comparison {
  readonly name: string;
  readonly seconds: number;
  readonly steps: number;
  readonly berth: RunMetrics;
  readonly hpa: RunMetrics;
  /** berth / HPA; null where the HPA's figure is 0 */
  readonly vs_hpa: { readonly overload_seconds: number | null; readonly instance_seconds: number | null };
  readonly goals: {
    readonly overload_le_50pct_of_hpa: boolean;
    readonly instance_seconds_le_110pct_of_hpa: boolean;
    readonly zero_changes?: boolean;
    readonly hold: boolean;
  };
}

export interface ComparisonSetup {
  readonly model: InstanceModel;
  readonly policy: AutoscalePolicy;
  /** rps per instance both autoscalers aim for */
  readonly target: number;
  readonly bounds: { readonly min: number; readonly max: number };
}

function run(trace: Trace, steps: readonly Step[], autoscaler: TraceAutoscaler, setup: ComparisonSetup, initial: number): RunMetrics {
  const r = replay(trace.rps, autoscaler, setup.model, initial);
  const { p50, max, unreached } = stepResponse(steps, r.ready, setup.model.capacity);
  return {
    instance_seconds: r.instanceSeconds,
    overload_seconds: r.overloadSeconds,
    time_to_adequate_capacity_s: { p50, max, unreached },
    replica_changes: r.replicaChanges,
    peak_replicas: r.peakReplicas,
  };
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);

export function runComparison(trace: Trace, setup: ComparisonSetup): Comparison {
  // Both start with the count the first minute asks for, all ready: no warm-up artefacts.
  let first = 0;
  const head = Math.min(60, trace.rps.length);
  for (let t = 0; t < head; t++) first += trace.rps[t]!;
  const initial = Math.min(setup.bounds.max, Math.max(setup.bounds.min, Math.ceil(first / Math.max(head, 1) / setup.target)));

  const steps = findSteps(trace.rps, setup.model.capacity);
  const berth = run(trace, steps, new BerthAutoscaler(setup.policy), setup, initial);
  const hpa = run(
    trace,
    steps,
    new HorizontalPodAutoscaler({
      ...HPA_DEFAULTS,
      minReplicas: setup.bounds.min,
      maxReplicas: setup.bounds.max,
      targetAverageValue: setup.target,
    }),
    setup,
    initial,
  );
  const overloadOk = berth.overload_seconds <= 0.5 * hpa.overload_seconds;
  const instancesOk = berth.instance_seconds <= 1.1 * hpa.instance_seconds;
  const flat = trace.name === 'noisy-flat';
  const zeroChanges = berth.replica_changes === 0;
  return {
    name: trace.name,
    seconds: trace.rps.length,
    steps: steps.length,
    berth,
    hpa,
    vs_hpa: {
      overload_seconds: ratio(berth.overload_seconds, hpa.overload_seconds),
      instance_seconds: ratio(berth.instance_seconds, hpa.instance_seconds),
    },
    goals: {
      overload_le_50pct_of_hpa: overloadOk,
      instance_seconds_le_110pct_of_hpa: instancesOk,
      ...(flat ? { zero_changes: zeroChanges } : {}),
      hold: overloadOk && instancesOk && (!flat || zeroChanges),
    },
  };
}
