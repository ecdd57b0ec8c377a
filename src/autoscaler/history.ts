// The past that decide() reads: demand samples (for the stable and panic means), recommendations
// (for scale-down stabilization) and when the count last moved or panic last triggered. decide()
// only reads it; the caller appends each decision with record(), so a replay of the same samples
// gives the same decisions. Every read and record is O(1) amortized.
import type { AutoscaleTuning } from './policy.js';
import { WindowedMax } from './windowed-max.js';
import { WindowedMean } from './windowed-mean.js';

type Windows = Pick<AutoscaleTuning, 'stableWindow' | 'panicWindow' | 'scaleDownStabilization'>;

/** What record() keeps of a decision. */
export interface RecordedDecision {
  /** Replicas before and after the decision. */
  readonly from: number;
  readonly replicas: number;
  /** Total demand observed at the tick. */
  readonly demand: number;
  /** What scale-down stabilization keeps of this tick (see decide, step 1). */
  readonly remembered: number;
  readonly panicTriggered: boolean;
  /** Work was open at the edges (AutoscaleSignals.open) though the demand may read 0: not idle. */
  readonly busy?: boolean;
}

export class AutoscaleHistory {
  private readonly stable: WindowedMean;
  private readonly panic: WindowedMean;
  private readonly recommendations: WindowedMax;
  /** Time of the first record, so idleness can be told apart from having no past. */
  firstAt: number | undefined;
  lastAt: number | undefined;
  lastDemandAt: number | undefined;
  lastPanicAt: number | undefined;
  lastScaleUpAt: number | undefined;
  lastScaleDownAt: number | undefined;

  constructor(readonly windows: Windows) {
    this.stable = new WindowedMean(windows.stableWindow);
    this.panic = new WindowedMean(windows.panicWindow);
    this.recommendations = new WindowedMax(windows.scaleDownStabilization);
  }

  /** Appends the decision taken at `now` (times never go backwards). */
  record(now: number, decision: RecordedDecision): void {
    if (this.lastAt !== undefined && now < this.lastAt) {
      throw new Error(`autoscale history: record at ${now} is before the last one at ${this.lastAt}`);
    }
    this.firstAt ??= now;
    this.lastAt = now;
    this.stable.push(now, decision.demand);
    this.panic.push(now, decision.demand);
    this.recommendations.push(now, decision.remembered);
    if (decision.demand > 0 || decision.busy === true) this.lastDemandAt = now;
    if (decision.panicTriggered) this.lastPanicAt = now;
    if (decision.replicas > decision.from) this.lastScaleUpAt = now;
    if (decision.replicas < decision.from) this.lastScaleDownAt = now;
  }

  /** Mean demand over the stable window ending at `now`, counting `current` as the sample at now. */
  stableMean(now: number, current: number): number {
    const { sum, count } = this.stable.read(now);
    return (sum + current) / (count + 1);
  }

  /** Mean demand over the panic window ending at `now`, counting `current` as the sample at now. */
  panicMean(now: number, current: number): number {
    const { sum, count } = this.panic.read(now);
    return (sum + current) / (count + 1);
  }

  /** Highest remembered recommendation of the scale-down stabilization window before `now`. */
  maxRecommendation(now: number): number | undefined {
    return this.recommendations.read(now);
  }

  fits(tuning: Windows): boolean {
    return (
      tuning.stableWindow === this.windows.stableWindow &&
      tuning.panicWindow === this.windows.panicWindow &&
      tuning.scaleDownStabilization === this.windows.scaleDownStabilization
    );
  }
}
