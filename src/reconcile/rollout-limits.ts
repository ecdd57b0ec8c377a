// maxSurge and maxUnavailable as instance counts for a desired count, rounded as Kubernetes
// does: surge up (a rollout can always start one), unavailable down (never below the floor).
import type { DeploySpec, InstanceCount } from '../spec/deploy.js';

export interface RolloutLimits {
  /** Instances of the target release placed above the desired count. */
  readonly surge: number;
  /** Instances of the desired count that may be unavailable. */
  readonly unavailable: number;
}

const resolve = (n: InstanceCount, desired: number, round: (x: number) => number): number =>
  'count' in n ? n.count : round((n.percent * desired) / 100);

export function rolloutLimits(deploy: Pick<DeploySpec, 'maxSurge' | 'maxUnavailable'>, desired: number): RolloutLimits {
  const surge = resolve(deploy.maxSurge, desired, Math.ceil);
  const unavailable = resolve(deploy.maxUnavailable, desired, Math.floor);
  // The spec refuses 0 and 0, but 25% of 1 rounds down to 0: a rollout must still move.
  return surge === 0 && unavailable === 0 ? { surge: 1, unavailable: 0 } : { surge, unavailable };
}
