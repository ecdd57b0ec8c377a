// Every host of the fleet through the request's checkers, first rejection wins: what explain
// counts per checker, and where an unplaceable request's reasons come from. O(hosts), so the
// batch runs it only for a request no host can take (once per request shape).
import type { Checker } from './checkers/checker.js';
import type { CompiledRequest } from './compiled-request.js';
import type { Reason } from './reason.js';
import type { PlacementState } from './state.js';

export interface Census {
  /** Per applied checker, in pipeline order: the hosts it was the first to reject. */
  readonly filtered: readonly { readonly checker: Checker; readonly hosts: readonly number[] }[];
  /** Hosts that pass every checker. */
  readonly feasible: readonly number[];
}

export function census(ask: CompiledRequest, state: PlacementState): Census {
  const filtered = ask.checkers.map((checker) => ({ checker, hosts: [] as number[] }));
  const feasible: number[] = [];
  for (const host of state.order) {
    let rejected = false;
    for (const entry of filtered) {
      if (!entry.checker.feasible(host, ask, state)) {
        entry.hosts.push(host);
        rejected = true;
        break;
      }
    }
    if (!rejected) feasible.push(host);
  }
  return { filtered, feasible };
}

/** The structured reasons no host could take the request, in pipeline order. */
export function unplaceableReasons(ask: CompiledRequest, state: PlacementState): Reason[] {
  if (state.hostCount === 0) return [{ checker: 'fleet', hosts: 0, message: 'the fleet has no hosts' }];
  const reasons: Reason[] = [];
  for (const { checker, hosts } of census(ask, state).filtered) {
    if (hosts.length === 0) continue;
    const reason = checker.reason(ask, hosts, state);
    if (reason !== undefined) reasons.push(reason);
  }
  return reasons;
}
