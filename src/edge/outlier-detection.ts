// Passive health: an instance that fails several requests in a row (cannot be connected to, or
// answers 5xx) is ejected for a while, longer each time, so a sick instance stops eating
// requests between two ready probes. Ejection never takes more than half of a service away: a
// fully ejected service would fail every request, which is worse than trying the sick ones.

export interface OutlierPolicy {
  /** failures in a row that eject an instance (Envoy's consecutive_5xx default) */
  readonly consecutiveFailures: number;
  /** the first ejection; each following one doubles it */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** at most this fraction of a service's instances is ejected at once */
  readonly maxEjectedFraction: number;
}

export const DEFAULT_OUTLIER_POLICY: OutlierPolicy = {
  consecutiveFailures: 5,
  baseEjectionMs: 10_000,
  maxEjectionMs: 300_000,
  maxEjectedFraction: 0.5,
};

export interface OutlierState {
  consecutiveFailures: number;
  ejectedUntil: number;
  /** ejections since the instance last stayed healthy for a while; sets the next backoff */
  ejections: number;
}

export const freshOutlierState = (): OutlierState => ({ consecutiveFailures: 0, ejectedUntil: 0, ejections: 0 });

export function recordSuccess(state: OutlierState): void {
  state.consecutiveFailures = 0;
}

/**
 * Counts a failure; returns true when it ejects the instance. `ejectedNow` and `total` are the
 * service's counts, for the cap on ejected instances.
 */
export function recordFailure(state: OutlierState, policy: OutlierPolicy, now: number, ejectedNow: number, total: number): boolean {
  state.consecutiveFailures++;
  if (state.consecutiveFailures < policy.consecutiveFailures || state.ejectedUntil > now) return false;
  if (ejectedNow + 1 > Math.floor(total * policy.maxEjectedFraction)) return false;
  // an instance that stayed healthy for the longest backoff starts over from the base
  if (state.ejectedUntil + policy.maxEjectionMs < now) state.ejections = 0;
  const backoff = Math.min(policy.baseEjectionMs * 2 ** state.ejections, policy.maxEjectionMs);
  state.ejections++;
  state.ejectedUntil = now + backoff;
  state.consecutiveFailures = 0;
  return true;
}
