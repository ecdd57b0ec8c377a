// The placement pipeline, wired in one place (DESIGN §4, after Nomad's GenericStack):
// host source -> checkers -> rankers -> bounded selection. Adding a constraint is one checker
// file plus one line in CHECKERS; adding a preference is one ranker plus one line in RANKERS.
import { cpu } from './checkers/cpu.js';
import { labels } from './checkers/labels.js';
import { memory } from './checkers/memory.js';
import { placementScope } from './checkers/placement-scope.js';
import { ports } from './checkers/ports.js';
import { replicaSpread } from './checkers/replica-spread.js';
import { schedulable } from './checkers/schedulable.js';
import { volumeLocality } from './checkers/volume-locality.js';
import type { Checker } from './checkers/checker.js';
import { UNSET, type CompiledRequest } from './compiled-request.js';
import { BUCKETS, bucketOf } from './free-index.js';
import { antiAffinity } from './rankers/anti-affinity.js';
import { fit } from './rankers/fit.js';
import { zoneSpread } from './rankers/zone-spread.js';
import type { Ranker } from './rankers/ranker.js';
import type { PlacementState } from './state.js';

export const CHECKERS: readonly Checker[] = [
  // First because it is one byte compare and rules out hosts that can take nothing at all. The
  // index holds only schedulable hosts, so in a walk it never fires; it speaks in explain's
  // census and for an instance pinned to a cordoned host by its volume.
  schedulable,
  // A volume pins the request to one host; one integer compare settles every other host.
  volumeLocality,
  // Region and cluster: the walk only visits the request's partitions, so like `schedulable`
  // this is for the census and the pinned path — but it must exist, so explain can say
  // "no host in region eu".
  placementScope,
  // Labels before resources: they are static, so a label miss is the more useful reason.
  labels,
  // The hard limit. The walk starts at the bucket that can hold the request, so only hosts
  // at the bottom edge of that bucket fail here.
  memory,
  // The soft limit (overcommitted CPU): after memory because memory is what usually binds.
  cpu,
  // Set lookups, only for the few requests with fixed host ports.
  ports,
  // Last: its rule ("no other feasible host holds fewer replicas") is about hosts that pass
  // every check above, and it reads a per-host counter.
  replicaSpread,
];

export const RANKERS: readonly Ranker[] = [
  // How full the host is left: bin-pack or spread by the host's cluster. It is steep near an
  // empty host, so opening a fresh host only wins when nothing else comes close.
  fit,
  // Fewer replicas of the service on the host is better.
  antiAffinity,
  // Fewer replicas of the service in the host's zone is better: one zone failure takes fewer.
  zoneSpread,
];

/**
 * Candidates taken per partition (cluster × region × zone), so the rankers always compare a
 * few hosts of every zone. The walk meets hosts in best-fit order, so the first two feasible
 * hosts of a zone are its tightest fits; in the simulator four per zone packed 0.4% tighter
 * and placed a third fewer instances per second.
 */
export const DEFAULT_CANDIDATES = 2;

/** Records what the pipeline did, for explain; the batch passes none and pays nothing. */
export interface Recorder {
  /** A new walk begins: the hosts are visited again, and what the last walk recorded no longer counts. */
  restart(): void;
  rejected(host: number, checker: Checker['name']): void;
  ranked(host: number, scores: readonly number[], total: number): void;
}

/** Sets the checkers that apply to a freshly compiled request (cheap ones cut, order kept). */
export function prepare(ask: CompiledRequest): CompiledRequest {
  if (ask.checkers.length === 0) ask.checkers = CHECKERS.filter((c) => c.applies(ask));
  return ask;
}

// Scratch for the one placement in progress; the pipeline is synchronous, so module-level
// buffers are safe and spare an allocation per placement.
let found = new Int32Array(64);
let count = 0;
let spreadMin = Infinity;
/** Whether the last gather started a walk from a cursor, skipping hosts it did not visit. */
let resumed = false;
let visited = 0;

/** Hosts the last `selectHost` call looked at (explain reports it to show the search is bounded). */
export const lastVisited = (): number => visited;

function check(host: number, ask: CompiledRequest, state: PlacementState, recorder: Recorder | undefined): boolean {
  visited++;
  const checks = ask.checkers;
  for (let i = 0; i < checks.length; i++) {
    const checker = checks[i]!;
    if (!checker.feasible(host, ask, state)) {
      if (checker === replicaSpread) spreadMin = Math.min(spreadMin, state.replicasOn(ask.service, host));
      recorder?.rejected(host, checker.name);
      return false;
    }
  }
  return true;
}

function room(limit: number): void {
  if (found.length < count + limit) {
    const bigger = new Int32Array(2 * (count + limit));
    bigger.set(found);
    found = bigger;
  }
}

/** Takes up to `limit` feasible hosts of one index partition, from the tightest fitting bucket up. */
function walkUp(partition: number, ask: CompiledRequest, state: PlacementState, limit: number, recorder: Recorder | undefined): number {
  const index = state.index;
  room(limit);
  const from = ask.cursors[partition]!;
  if (from !== UNSET) resumed = true;
  let taken = 0;
  let b = index.firstFrom(partition, from === UNSET ? bucketOf(ask.memory) : from);
  for (; b >= 0 && taken < limit; b = index.firstFrom(partition, b + 1)) {
    for (let h = index.head(partition, b); h >= 0; h = index.after(h)) {
      if (check(h, ask, state, recorder)) {
        if (taken === 0) ask.cursors[partition] = b;
        found[count++] = h;
        if (++taken >= limit) break;
      }
    }
  }
  if (taken === 0) ask.cursors[partition] = BUCKETS;
  return taken;
}

/** Takes up to `limit` feasible hosts of one index partition, from the emptiest bucket down. */
function walkDown(partition: number, ask: CompiledRequest, state: PlacementState, limit: number, recorder: Recorder | undefined): number {
  const index = state.index;
  room(limit);
  const start = bucketOf(ask.memory);
  const from = ask.cursors[partition]!;
  if (from !== UNSET) resumed = true;
  let taken = 0;
  let b = index.lastUpTo(partition, from === UNSET ? BUCKETS - 1 : from);
  for (; b >= start && taken < limit; b = index.lastUpTo(partition, b - 1)) {
    for (let h = index.head(partition, b); h >= 0; h = index.after(h)) {
      if (check(h, ask, state, recorder)) {
        if (taken === 0) ask.cursors[partition] = b;
        found[count++] = h;
        if (++taken >= limit) break;
      }
    }
  }
  if (taken === 0) ask.cursors[partition] = -1;
  return taken;
}

/**
 * Host source: the request's partitions of the free-memory index (one per zone, so the
 * rankers always see candidates from every zone). bin-pack walks the hosts in use from the
 * tightest fit up, and opens an empty host only when none fits anywhere in scope — the
 * largest empty host first, so that hosts fill whole and the small ones are what stays empty
 * (a big host opened late, for the last few instances, is what ruins packing). spread starts
 * from the empty hosts and walks from the emptiest down.
 */
function gather(ask: CompiledRequest, state: PlacementState, limit: number, recorder: Recorder | undefined): void {
  count = 0;
  spreadMin = Infinity;
  resumed = false;
  // hosts another request committed to may have moved behind a cursor: start over
  if (ask.cursorEpoch !== state.epoch) {
    ask.cursors.fill(UNSET);
    ask.cursorEpoch = state.epoch;
  }
  // an instance pinned by its volume has exactly one possible host: no walk
  if (ask.volumeHost >= 0) {
    room(1);
    if (check(ask.volumeHost, ask, state, recorder)) found[count++] = ask.volumeHost;
    return;
  }
  const emptyOffset = state.partitions.length;
  let packing = false;
  for (const p of ask.partitions) {
    if (state.partitions[p]!.spread) {
      const taken = walkDown(emptyOffset + p, ask, state, limit, recorder);
      if (taken < limit) walkDown(p, ask, state, limit - taken, recorder);
    } else {
      packing = true;
      walkUp(p, ask, state, limit, recorder);
    }
  }
  if (!packing || count > 0) return;
  for (const p of ask.partitions) if (!state.partitions[p]!.spread) walkDown(emptyOffset + p, ask, state, limit, recorder);
}

/**
 * Runs the pipeline for one request and returns the chosen host index, or -1 when no host
 * can take it. Does not commit: the caller records the placement in the state.
 */
export function selectHost(
  ask: CompiledRequest,
  state: PlacementState,
  candidates: number = DEFAULT_CANDIDATES,
  recorder?: Recorder,
): number {
  visited = 0;
  gather(ask, state, candidates, recorder);
  if (count === 0 && resumed) {
    // the hosts behind the cursors are infeasible, but the spread level below needs the
    // fewest replicas any of them holds: walk everything once
    ask.cursors.fill(UNSET);
    recorder?.restart();
    gather(ask, state, candidates, recorder);
  }
  if (count === 0 && spreadMin !== Infinity) {
    // Every feasible host already holds more replicas than the level allowed: the fewest any
    // of them holds is the new level, and the walk runs again. This happens once per level
    // per service shape, not per placement.
    ask.spreadLevel = spreadMin;
    // hosts the old level rejected may pass now
    ask.cursors.fill(UNSET);
    recorder?.restart();
    gather(ask, state, candidates, recorder);
  }
  let best = -1;
  let bestScore = -1;
  const rankers = RANKERS;
  for (let i = 0; i < count; i++) {
    const host = found[i]!;
    let sum = 0;
    for (let r = 0; r < rankers.length; r++) sum += rankers[r]!.score(host, ask, state);
    const total = sum / rankers.length;
    if (recorder !== undefined) recorder.ranked(host, rankers.map((r) => r.score(host, ask, state)), total);
    // strictly greater: on a tie the host met first in the walk (the tighter fit) wins
    if (total > bestScore) {
      bestScore = total;
      best = host;
    }
  }
  return best;
}
