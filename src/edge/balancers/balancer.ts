// The contract every balancer meets: given the instances of one service and what may take more,
// pick one. Balancers keep no per-instance state of their own; load lives on the instances.

export interface CandidateView<T> {
  readonly items: readonly T[];
  /** a stable name (the instance id), for balancers that place instances by name */
  id(item: T): string;
  /** ready, not leaving, not ejected, under its hard limit */
  eligible(item: T): boolean;
  /** under its soft limit: instances over it are used only when every instance is */
  underSoft(item: T): boolean;
  /** outstanding work: in-flight requests, or open connections for per-connection routes */
  load(item: T): number;
}

export interface Balancer {
  /** An eligible instance, or undefined when none can take more. `key` is the affinity key, if any. */
  pick<T>(view: CandidateView<T>, key?: string): T | undefined;
}

/**
 * Fills `into` with the eligible instances under their soft limit, or, when there are none, with
 * every eligible one (soft limits are a preference, hard limits are not).
 */
export function preferredCandidates<T>(view: CandidateView<T>, into: T[]): T[] {
  into.length = 0;
  for (const item of view.items) if (view.eligible(item) && view.underSoft(item)) into.push(item);
  if (into.length > 0) return into;
  for (const item of view.items) if (view.eligible(item)) into.push(item);
  return into;
}
