// What decide() obeys: the operator's bounds and target (from the spec) plus the tuning of the
// algorithm. The spec is authoritative (the Process Compose seed): metrics move the count only
// inside [min, max], and a burst raises the floor until it expires.
import type { ScaleSpec, ScaleTarget } from '../spec/scale.js';
import type { Burst } from './burst.js';

export interface AutoscaleTuning {
  /** Relative change of load per instance that is ignored, as the Kubernetes HPA does. */
  readonly tolerance: number;
  /** ms of samples averaged for the steady recommendation (Knative: 60 s). */
  readonly stableWindow: number;
  /** ms of samples averaged to see a change within seconds (Knative's panic window: 6 s). */
  readonly panicWindow: number;
  /**
   * The panic-window mean alone scales up once it is this far above the current count's load
   * (wider than `tolerance`: a 6 s mean is about 3× as noisy as a 60 s one).
   */
  readonly surgeTolerance: number;
  /** Panic when the panic-window demand reaches this multiple of the ready capacity. */
  readonly panicThreshold: number;
  /** ms over which the highest recommendation bounds a scale-down (HPA: 5 min). */
  readonly scaleDownStabilization: number;
  /** One decision multiplies the count by at most this (from zero: counts as one). */
  readonly maxScaleUpRate: number;
  /** One decision divides the count by at most this. */
  readonly maxScaleDownRate: number;
  /** ms after a scale-up before the next one, unless panicking. */
  readonly scaleUpCooldown: number;
  /** ms after a scale-up before a scale-down (the stable window has to see the new load). */
  readonly scaleDownCooldown: number;
}

export interface AutoscalePolicy extends AutoscaleTuning {
  readonly min: number;
  readonly max: number;
  readonly target: ScaleTarget;
  /** ms without demand before a service with min 0 goes to zero. */
  readonly idle: number;
  readonly bursts: readonly Burst[];
}

/**
 * One default for every service. Measured with `npm run bench:autoscale` against the Kubernetes
 * HPA on all the traces; docs/autoscaler.md says why each value is what it is.
 */
export const DEFAULT_TUNING: AutoscaleTuning = {
  tolerance: 0.1,
  stableWindow: 60_000,
  panicWindow: 6_000,
  surgeTolerance: 0.15,
  panicThreshold: 2,
  scaleDownStabilization: 300_000,
  maxScaleUpRate: 10,
  maxScaleDownRate: 2,
  scaleUpCooldown: 0,
  scaleDownCooldown: 60_000,
};

/** Same as the spec's DEFAULT_IDLE (5m). */
export const DEFAULT_IDLE_MS = 300_000;

export function autoscalePolicy(
  scale: ScaleSpec,
  options: { bursts?: readonly Burst[]; tuning?: Partial<AutoscaleTuning> } = {},
): AutoscalePolicy {
  return {
    ...DEFAULT_TUNING,
    ...options.tuning,
    // The operator's window wins over the tuning's: it is the one knob of the tuning the spec exposes.
    ...(scale.stabilization === undefined ? {} : { scaleDownStabilization: scale.stabilization }),
    min: scale.min,
    max: scale.max,
    target: scale.target,
    idle: scale.idle ?? DEFAULT_IDLE_MS,
    bursts: options.bursts ?? [],
  };
}
