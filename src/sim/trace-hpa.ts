// The Kubernetes HorizontalPodAutoscaler's default algorithm (autoscaling/v2, as in
// kubernetes/pkg/controller/podautoscaler: replica_calculator.go and horizontal.go), rewritten
// for the trace simulator as berth's baseline. It scales on a Pods metric (requests per second
// per pod, target averageValue) and follows the controller step by step:
//
// - it reconciles every sync period (15 s); between syncs the count does not move;
// - the metrics pipeline gives it each ready pod's mean rate over the last `metricWindow` seconds
//   (15 s), i.e. the service's demand spread over its ready pods (an ingress-level count, so it
//   sees demand, not the capped rate an overloaded pod would report: generous to the HPA);
// - replica calculation (calcPlainMetricReplicas): pending pods are "unready" and have no
//   metric; usage ratio = mean per ready pod / target; within the tolerance (0.1) the count
//   stays; when scaling up with unready pods, they count as using 0 and the ratio is recomputed
//   over all pods (if that flips the direction or lands within tolerance, no change); else
//   desired = ceil(ratio × ready pods);
// - behavior (defaults): scale-up stabilization 0 s, policies 100 % / 15 s and 4 pods / 15 s with
//   selectPolicy Max; scale-down stabilization 300 s (the highest recommendation of the window,
//   never above the current count), policy 100 % / 15 s; each policy's limit counts from the
//   replicas at the start of its period (current − added + deleted within the period);
// - min/max: a count outside [min, max] is brought back first; a count of 0 with min > 0 means
//   autoscaling is disabled; metric errors (no ready pod) leave the count as it is.
import type { LoadObservation, TraceAutoscaler } from './trace-replay.js';

export interface HpaScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface HpaScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: readonly HpaScalingPolicy[];
}

export interface HpaConfig {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** target averageValue of the per-pod metric (rps per pod) */
  readonly targetAverageValue: number;
  readonly tolerance: number;
  readonly syncPeriodSeconds: number;
  /** seconds the metrics pipeline averages each pod's rate over */
  readonly metricWindowSeconds: number;
  readonly scaleUp: HpaScalingRules;
  readonly scaleDown: HpaScalingRules;
}

/** The defaults of kube-controller-manager and of autoscaling/v2 behavior. */
export const HPA_DEFAULTS: Omit<HpaConfig, 'minReplicas' | 'maxReplicas' | 'targetAverageValue'> = {
  tolerance: 0.1,
  syncPeriodSeconds: 15,
  metricWindowSeconds: 15,
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  },
};

interface Timestamped {
  readonly at: number;
  readonly value: number;
}

export class HorizontalPodAutoscaler implements TraceAutoscaler {
  readonly name = 'hpa';
  private readonly window: Float64Array;
  private windowSum = 0;
  private samples = 0;
  private recommendations: Timestamped[] | undefined;
  private scaleUpEvents: Timestamped[] = [];
  private scaleDownEvents: Timestamped[] = [];

  constructor(readonly config: HpaConfig) {
    this.window = new Float64Array(config.metricWindowSeconds);
  }

  tick(o: LoadObservation): number {
    const slot = this.samples % this.window.length;
    this.windowSum += o.demand - this.window[slot]!;
    this.window[slot] = o.demand;
    this.samples++;
    if ((o.second + 1) % this.config.syncPeriodSeconds !== 0) return o.replicas;
    return this.reconcile(o.second, o.replicas, o.ready);
  }

  /** One pass of reconcileAutoscaler; returns the count it sets (or leaves). */
  private reconcile(now: number, currentReplicas: number, ready: number): number {
    const c = this.config;
    this.recommendations ??= [{ at: now, value: currentReplicas }]; // recordInitialRecommendation
    let desired: number;
    if (currentReplicas === 0 && c.minReplicas !== 0) return 0; // scaling disabled
    if (currentReplicas > c.maxReplicas) desired = c.maxReplicas;
    else if (currentReplicas < c.minReplicas) desired = c.minReplicas;
    else {
      const proposal = this.replicasForMetric(currentReplicas, ready);
      if (proposal === undefined) return currentReplicas; // failed to compute: no rescale
      desired = this.normalizeWithBehaviors(now, currentReplicas, proposal);
    }
    if (desired !== currentReplicas) this.storeScaleEvent(now, currentReplicas, desired);
    return desired;
  }

  /** calcPlainMetricReplicas for a Pods metric; undefined where the controller returns an error. */
  private replicasForMetric(currentReplicas: number, ready: number): number | undefined {
    const c = this.config;
    if (ready === 0) return undefined; // "did not receive metrics for targeted pods"
    const unready = Math.max(0, currentReplicas - ready);
    const seconds = Math.min(this.samples, this.window.length);
    // Metrics are milli-quantities: each pod's value and their average are whole millis.
    const perPodMilli = Math.floor((this.windowSum / seconds / ready) * 1000);
    const targetMilli = Math.round(c.targetAverageValue * 1000);
    const usageRatio = perPodMilli / targetMilli;
    const within = (ratio: number): boolean => Math.abs(1 - ratio) <= c.tolerance;

    if (!(unready > 0 && usageRatio > 1)) {
      if (within(usageRatio)) return currentReplicas;
      return Math.ceil(usageRatio * ready);
    }
    // Scale-up with unready pods: they count as using 0.
    const pods = ready + unready;
    const newUsageRatio = Math.floor((perPodMilli * ready) / pods) / targetMilli;
    if (within(newUsageRatio) || newUsageRatio < 1) return currentReplicas;
    const newReplicas = Math.ceil(newUsageRatio * pods);
    if (newReplicas < currentReplicas) return currentReplicas;
    return newReplicas;
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilization, then the rate policies and [min, max]. */
  private normalizeWithBehaviors(now: number, current: number, desired: number): number {
    const c = this.config;
    // stabilizeRecommendationWithBehaviors
    const upCutoff = now - c.scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - c.scaleDown.stabilizationWindowSeconds;
    let up = desired;
    let down = desired;
    for (const rec of this.recommendations ?? []) {
      if (rec.at > upCutoff) up = Math.min(up, rec.value);
      if (rec.at > downCutoff) down = Math.max(down, rec.value);
    }
    let stabilized = current;
    if (stabilized < up) stabilized = up;
    if (stabilized > down) stabilized = down;
    const obsolete = now - Math.max(c.scaleUp.stabilizationWindowSeconds, c.scaleDown.stabilizationWindowSeconds);
    this.recommendations = (this.recommendations ?? []).filter((rec) => rec.at >= obsolete);
    this.recommendations.push({ at: now, value: desired });

    // convertDesiredReplicasWithBehaviorRate
    if (stabilized > current) {
      const limit = Math.max(current, this.scaleUpLimit(now, current));
      return Math.min(stabilized, Math.min(c.maxReplicas, limit));
    }
    if (stabilized < current) {
      const limit = Math.min(current, this.scaleDownLimit(now, current));
      return Math.max(stabilized, Math.max(c.minReplicas, limit));
    }
    return stabilized;
  }

  private periodStart(now: number, current: number, periodSeconds: number): number {
    const cutoff = now - periodSeconds; // events strictly after the cutoff count (time.After)
    let added = 0;
    let deleted = 0;
    for (const e of this.scaleUpEvents) if (e.at > cutoff) added += e.value;
    for (const e of this.scaleDownEvents) if (e.at > cutoff) deleted += e.value;
    return current - added + deleted;
  }

  private scaleUpLimit(now: number, current: number): number {
    const rules = this.config.scaleUp;
    if (rules.selectPolicy === 'Disabled') return current;
    let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    for (const policy of rules.policies) {
      const start = this.periodStart(now, current, policy.periodSeconds);
      const proposed = policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
      result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
    }
    return result;
  }

  private scaleDownLimit(now: number, current: number): number {
    const rules = this.config.scaleDown;
    if (rules.selectPolicy === 'Disabled') return current;
    let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    for (const policy of rules.policies) {
      const start = this.periodStart(now, current, policy.periodSeconds);
      const proposed = policy.type === 'Pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
      result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result;
  }

  /** storeScaleEvent: events older than the longest policy period are dropped. */
  private storeScaleEvent(now: number, from: number, to: number): void {
    const longest = (rules: HpaScalingRules): number => Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
    if (to > from) {
      const cutoff = now - longest(this.config.scaleUp);
      this.scaleUpEvents = this.scaleUpEvents.filter((e) => e.at >= cutoff);
      this.scaleUpEvents.push({ at: now, value: to - from });
    } else {
      const cutoff = now - longest(this.config.scaleDown);
      this.scaleDownEvents = this.scaleDownEvents.filter((e) => e.at >= cutoff);
      this.scaleDownEvents.push({ at: now, value: from - to });
    }
  }
}
