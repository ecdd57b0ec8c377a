// Why a request lands where it does (or nowhere): how many hosts each checker filtered, with a
// few names; the candidates the bounded selection ranked, with every ranker's score; the
// choice. The pipeline runs exactly as in a batch, with a recorder attached.
import type { Checker } from './checkers/checker.js';
import { RequestCompiler } from './compiled-request.js';
import { census, unplaceableReasons } from './census.js';
import { DEFAULT_CANDIDATES, lastVisited, prepare, RANKERS, selectHost, type Recorder } from './pipeline.js';
import type { Fleet } from './fleet.js';
import type { PlaceOptions } from './place-all.js';
import type { PlaceResult } from './place.js';
import { instanceName, type PlacementRequest } from './request.js';
import { PlacementState } from './state.js';

export interface FilteredHosts {
  readonly checker: Checker['name'];
  readonly hosts: number;
  /** Up to five host names, in the seeded host order. */
  readonly sample: readonly string[];
}

export interface RankedCandidate {
  readonly host: string;
  readonly name: string;
  /** Per ranker, each in [0, 1]. */
  readonly scores: Readonly<Record<string, number>>;
  /** The mean of the scores; the highest wins. */
  readonly score: number;
}

export interface Explanation {
  readonly instance: string;
  /** Hosts in the fleet. */
  readonly hosts: number;
  /** Census of the whole fleet: the first checker that rejected each host. */
  readonly filtered: readonly FilteredHosts[];
  /** Hosts that pass every checker. */
  readonly feasible: number;
  /** Hosts the bounded selection looked at before it stopped. */
  readonly visited: number;
  /** Of those, how many each checker turned away (the rest were ranked). */
  readonly skipped: Readonly<Partial<Record<Checker['name'], number>>>;
  /** The replica-spread level: no chosen host holds more replicas of the service than this. */
  readonly spreadLevel: number;
  /** Best first. */
  readonly candidates: readonly RankedCandidate[];
  readonly result: PlaceResult;
}

const SAMPLE = 5;

export function explain(fleet: Fleet, request: PlacementRequest, options: PlaceOptions = {}): Explanation {
  const state = new PlacementState(fleet, options);
  const ask = prepare(new RequestCompiler(state).compile(request));
  let ranked: { host: number; scores: readonly number[]; total: number }[] = [];
  let skipped: Partial<Record<Checker['name'], number>> = {};
  const recorder: Recorder = {
    restart: () => {
      ranked = [];
      skipped = {};
    },
    rejected: (_host, checker) => {
      skipped[checker] = (skipped[checker] ?? 0) + 1;
    },
    ranked: (host, scores, total) => ranked.push({ host, scores, total }),
  };
  const chosen = selectHost(ask, state, options.candidates ?? DEFAULT_CANDIDATES, recorder);
  const visited = lastVisited();
  // census after selection, so the replica-spread checker counts at the level the choice used
  const { filtered, feasible } = census(ask, state);
  const hostName = (h: number): string => state.hostOf(h).name;
  return {
    instance: instanceName(request),
    hosts: state.hostCount,
    filtered: filtered.map(({ checker, hosts }) => ({
      checker: checker.name,
      hosts: hosts.length,
      sample: hosts.slice(0, SAMPLE).map(hostName),
    })),
    feasible: feasible.length,
    visited,
    skipped,
    spreadLevel: ask.spreadLevel,
    candidates: ranked
      .sort((a, b) => b.total - a.total)
      .map(({ host, scores, total }) => ({
        host: state.hostOf(host).id,
        name: hostName(host),
        scores: Object.fromEntries(RANKERS.map((r, i) => [r.name, scores[i]!])),
        score: total,
      })),
    result: chosen >= 0 ? { ok: true, host: state.hostOf(chosen).id } : { ok: false, reasons: unplaceableReasons(ask, state) },
  };
}
