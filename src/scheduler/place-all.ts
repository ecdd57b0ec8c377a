// Batch placement: many instances in one pass over one incrementally updated state, so the
// thousandth placement costs what the first did.
import { ANY, RequestCompiler } from './compiled-request.js';
import { unplaceableReasons } from './census.js';
import { DEFAULT_CANDIDATES, prepare, selectHost } from './pipeline.js';
import type { Fleet } from './fleet.js';
import type { Reason } from './reason.js';
import type { PlacementRequest } from './request.js';
import { PlacementState, type StateOptions } from './state.js';

export interface PlaceOptions extends StateOptions {
  /** Candidates ranked per partition (cluster × region × zone); default 2. */
  readonly candidates?: number;
  /**
   * `constrained-first` (default): pinned, then constrained, then wide services, then large
   * instances first (see `constrainedFirst`); `as-given` keeps the caller's order.
   */
  readonly order?: 'constrained-first' | 'as-given';
}

export interface Placement {
  readonly request: PlacementRequest;
  /** Host id. */
  readonly host: string;
}

export interface Unplaceable {
  readonly request: PlacementRequest;
  readonly reasons: readonly Reason[];
}

export interface BatchResult {
  /** In placement order: replaying them in this order reproduces the state the scheduler saw. */
  readonly placements: Placement[];
  readonly unplaceable: Unplaceable[];
}

/** Places every request it can; the rest come back with structured reasons, never as an exception. */
export function placeAll(fleet: Fleet, requests: readonly PlacementRequest[], options: PlaceOptions = {}): BatchResult {
  return placeInto(new PlacementState(fleet, options), requests, options);
}

/** Batch placement into an existing state (a reschedule plan builds its own). */
export function placeInto(state: PlacementState, requests: readonly PlacementRequest[], options: PlaceOptions = {}): BatchResult {
  const compiler = new RequestCompiler(state);
  const candidates = options.candidates ?? DEFAULT_CANDIDATES;
  const placements: Placement[] = [];
  const unplaceable: Unplaceable[] = [];
  const hosts = state.fleet.hosts;
  const order = options.order === 'as-given' ? undefined : constrainedFirst(requests, state);
  for (let i = 0; i < requests.length; i++) {
    const request = requests[order === undefined ? i : order[i]!]!;
    const ask = prepare(compiler.compile(request));
    if (ask.unplaceable !== undefined) {
      unplaceable.push({ request, reasons: ask.unplaceable });
      continue;
    }
    const host = selectHost(ask, state, candidates);
    if (host < 0) {
      const reasons = unplaceableReasons(ask, state);
      if (reasons.length === 0) throw new Error(`no host took ${request.service}/${request.replica} yet no checker filtered one`);
      // capacity only shrinks during a batch, so the verdict holds for every later request of this shape
      ask.unplaceable = reasons;
      unplaceable.push({ request, reasons });
      continue;
    }
    const newVolume = request.volume !== undefined && ask.volumeHost === ANY ? request.volume.name : undefined;
    state.commit(host, ask, newVolume);
    // only this request changed the fleet since its walk: its cursors stay valid
    ask.cursorEpoch = state.epoch;
    placements.push({ request, host: hosts[host]!.id });
  }
  return { placements, unplaceable };
}

/**
 * The batch order, most constrained first, as first-fit-decreasing does with sizes:
 *  1. instances pinned by a volume: they have one possible host;
 *  2. instances with label or port constraints: they compete for a subset of hosts, and an
 *     unconstrained instance placed before them could take the room only they can use;
 *  3. then by the service's replica count, descending: replica spread wants each replica on a
 *     different host, which is easy while many hosts have room and impossible at the end of a
 *     tight packing, where it would open a fresh host per replica;
 *  4. then by memory, descending (best-fit decreasing).
 * Stable. Requests of one service usually arrive together, so runs of equal keys are sorted
 * instead of a million requests.
 */
function constrainedFirst(requests: readonly PlacementRequest[], state: PlacementState): Uint32Array {
  const replicas = new Map<string, number>();
  const sizes = new Set<number>();
  let last: PlacementRequest | undefined;
  let streak = 0;
  for (const r of requests) {
    // count runs of one service, so a million replicas cost a map update per service
    if (last !== undefined && r.service !== last.service) {
      replicas.set(last.service, (replicas.get(last.service) ?? 0) + streak);
      streak = 0;
    }
    streak++;
    if (r.resources !== last?.resources) sizes.add(r.resources.memory);
    last = r;
  }
  if (last !== undefined) replicas.set(last.service, (replicas.get(last.service) ?? 0) + streak);
  const sizeRank = new Map([...sizes].sort((a, b) => a - b).map((size, rank) => [size, rank]));
  // tier (2 bits) | replicas (24 bits) | size rank (20 bits): exact in a double
  const keyOf = (r: PlacementRequest): number => {
    const volume = r.volume;
    const tier =
      volume !== undefined && (volume.host !== undefined || state.volumes.has(volume.name))
        ? 2
        : (r.ports?.length ?? 0) > 0 || (r.placement?.labels !== undefined && Object.keys(r.placement.labels).length > 0)
          ? 1
          : 0;
    return tier * 2 ** 44 + Math.min(replicas.get(r.service)!, 2 ** 24 - 1) * 2 ** 20 + sizeRank.get(r.resources.memory)!;
  };
  const runs: { key: number; start: number; end: number }[] = [];
  let run: { key: number; start: number; end: number } | undefined;
  let previous: PlacementRequest | undefined;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    // a replica shaped like the previous one (same service, same shared objects) has its key
    if (
      run !== undefined &&
      previous !== undefined &&
      r.volume === undefined &&
      previous.volume === undefined &&
      r.service === previous.service &&
      r.resources === previous.resources &&
      r.ports === previous.ports &&
      r.placement === previous.placement
    ) {
      run.end = i + 1;
    } else {
      const key = keyOf(r);
      if (run !== undefined && run.key === key) run.end = i + 1;
      else runs.push((run = { key, start: i, end: i + 1 }));
    }
    previous = r;
  }
  runs.sort((a, b) => b.key - a.key || a.start - b.start);
  const order = new Uint32Array(requests.length);
  let at = 0;
  for (const run of runs) for (let i = run.start; i < run.end; i++) order[at++] = i;
  return order;
}
