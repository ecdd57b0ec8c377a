// A request compiled against the placement state: names interned, constraints normalised,
// and everything a checker or ranker reads gathered in one object. Feasibility depends only
// on what is in it, so replicas of one service share one compiled request, and with it the
// list of checkers that apply, the replica-spread level and a cached "unplaceable" verdict.
import type { Checker } from './checkers/checker.js';
import type { Reason } from './reason.js';
import type { PlacementConstraints, PlacementRequest } from './request.js';
import type { PlacementState } from './state.js';

/** Region, cluster or volume host that no host has: every host fails the check. */
export const UNKNOWN = -2;
/** No region, cluster or volume constraint. */
export const ANY = -1;

export interface CompiledRequest {
  readonly service: number;
  readonly serviceName: string;
  readonly memory: number;
  readonly cpu: number;
  readonly ports: readonly number[];
  /** The request's constraints as given, to recognise the next request of the same shape. */
  readonly placement: PlacementConstraints | undefined;
  /** ANY, UNKNOWN or a region id. */
  readonly region: number;
  readonly regionName: string | undefined;
  readonly cluster: number;
  readonly clusterName: string | undefined;
  readonly labels: readonly (readonly [string, string])[];
  /** Per host, 1 where the host carries every label; undefined without labels. */
  readonly labelMatch: Uint8Array | undefined;
  /** The host the request's volume lives on: ANY when it has none or a new one, UNKNOWN when that host is not in the fleet. */
  readonly volumeHost: number;
  readonly volumeName: string | undefined;
  readonly volumeHostName: string | undefined;
  /** Index partitions (cluster × region × zone) the request may land in. */
  readonly partitions: readonly number[];
  /** The zones of those partitions (-1 for hosts without a zone label). */
  readonly zones: readonly number[];
  /** The checkers with something to say about this request, in pipeline order; set by the pipeline. */
  checkers: readonly Checker[];
  /**
   * No feasible host holds fewer replicas of the service than this. It only rises during a
   * batch (capacity only shrinks, counts only grow), so it is kept between replicas.
   */
  spreadLevel: number;
  /** Set once no host can take this request; it stays true for the rest of the batch. */
  unplaceable: Reason[] | undefined;
  /**
   * Per index partition, the bucket the last walk found its first candidate in (the pipeline's
   * resume point). Valid while `cursorEpoch` equals the state's epoch, that is while nothing but
   * this request committed since: then every host the walk skipped is still infeasible.
   */
  readonly cursors: Int32Array;
  cursorEpoch: number;
}

/** A cursor not set: the walk starts at its natural end. */
export const UNSET = -2;

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  const ak = a ? Object.keys(a) : [];
  const bk = b ? Object.keys(b) : [];
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (a![k] !== b?.[k]) return false;
  return true;
}

function samePorts(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  const al = a?.length ?? 0;
  if (al !== (b?.length ?? 0)) return false;
  for (let i = 0; i < al; i++) if (a![i] !== b![i]) return false;
  return true;
}

const samePlacement = (a: PlacementConstraints | undefined, b: PlacementConstraints | undefined): boolean =>
  a === b || (a?.region === b?.region && a?.cluster === b?.cluster && sameLabels(a?.labels, b?.labels));

/** Compiles requests against one state, sharing the result between requests with the same shape. */
export class RequestCompiler {
  /** Service name -> its compiled shapes (nearly always one). */
  private readonly shapes = new Map<string, CompiledRequest[]>();
  private readonly scopes = new Map<string, { partitions: number[]; zones: number[] }>();
  private readonly labelMatches = new Map<string, Uint8Array>();
  private lastRequest: PlacementRequest | undefined;
  private lastCompiled: CompiledRequest | undefined;

  constructor(private readonly state: PlacementState) {}

  compile(request: PlacementRequest): CompiledRequest {
    // batches list replicas of a service one after another: the previous request's shape is
    // the likely one, and comparing a few fields is all it takes
    const last = this.lastRequest;
    if (
      last !== undefined &&
      this.lastCompiled !== undefined &&
      request.volume === undefined &&
      last.volume === undefined &&
      request.service === last.service &&
      request.resources.memory === last.resources.memory &&
      request.resources.cpu === last.resources.cpu &&
      samePorts(request.ports, last.ports) &&
      samePlacement(request.placement, last.placement)
    ) {
      this.lastRequest = request;
      return this.lastCompiled;
    }
    const compiled = this.find(request);
    this.lastRequest = request;
    this.lastCompiled = compiled;
    return compiled;
  }

  private find(request: PlacementRequest): CompiledRequest {
    const state = this.state;
    let volumeHost = ANY;
    let volumeName: string | undefined;
    let volumeHostName: string | undefined;
    if (request.volume !== undefined) {
      const pinned = request.volume.host;
      const known = pinned === undefined ? state.volumes.get(request.volume.name) : state.hostIds.get(pinned);
      if (pinned !== undefined || known !== undefined) {
        volumeName = request.volume.name;
        volumeHost = known ?? UNKNOWN;
        volumeHostName = pinned ?? state.hostOf(known!).id;
      }
    }
    let variants = this.shapes.get(request.service);
    if (variants === undefined) this.shapes.set(request.service, (variants = []));
    for (const c of variants) {
      if (
        c.memory === request.resources.memory &&
        c.cpu === request.resources.cpu &&
        c.volumeHost === volumeHost &&
        c.volumeName === volumeName &&
        samePorts(c.ports, request.ports) &&
        samePlacement(c.placement, request.placement)
      ) {
        return c;
      }
    }
    const compiled = this.build(request, volumeHost, volumeName, volumeHostName);
    variants.push(compiled);
    return compiled;
  }

  private build(
    request: PlacementRequest,
    volumeHost: number,
    volumeName: string | undefined,
    volumeHostName: string | undefined,
  ): CompiledRequest {
    const state = this.state;
    const placement = request.placement;
    const labels = Object.entries(placement?.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const regionId = placement?.region === undefined ? ANY : state.regions.lookup(placement.region);
    const clusterId = placement?.cluster === undefined ? ANY : state.clusters.lookup(placement.cluster);
    const region = regionId === -1 && placement?.region !== undefined ? UNKNOWN : regionId;
    const cluster = clusterId === -1 && placement?.cluster !== undefined ? UNKNOWN : clusterId;
    const { partitions, zones } = this.scope(region, cluster);
    return {
      service: state.services.intern(request.service),
      serviceName: request.service,
      memory: request.resources.memory,
      cpu: request.resources.cpu,
      ports: [...(request.ports ?? [])],
      placement,
      region,
      regionName: placement?.region,
      cluster,
      clusterName: placement?.cluster,
      labels,
      labelMatch: labels.length === 0 ? undefined : this.labelMatch(labels),
      volumeHost,
      volumeName,
      volumeHostName,
      partitions,
      zones,
      checkers: [],
      spreadLevel: 0,
      unplaceable: undefined,
      cursors: new Int32Array(2 * state.partitions.length).fill(UNSET),
      cursorEpoch: -1,
    };
  }

  private scope(region: number, cluster: number): { partitions: number[]; zones: number[] } {
    const key = `${region}/${cluster}`;
    let scope = this.scopes.get(key);
    if (scope === undefined) {
      const partitions: number[] = [];
      const zones = new Set<number>();
      this.state.partitions.forEach((p, i) => {
        if ((region === ANY || p.region === region) && (cluster === ANY || p.cluster === cluster)) {
          partitions.push(i);
          zones.add(p.zone);
        }
      });
      this.scopes.set(key, (scope = { partitions, zones: [...zones] }));
    }
    return scope;
  }

  /** Which hosts carry every label, computed once per label set: a label check in the walk is then one byte. */
  private labelMatch(labels: readonly (readonly [string, string])[]): Uint8Array {
    const key = labels.map(([k, v]) => `${k}=${v}`).join('\u0000');
    let match = this.labelMatches.get(key);
    if (match === undefined) {
      const state = this.state;
      match = new Uint8Array(state.hostCount);
      for (let h = 0; h < state.hostCount; h++) {
        const have = state.hostOf(h).labels;
        match[h] = labels.every(([k, v]) => have[k] === v) ? 1 : 0;
      }
      this.labelMatches.set(key, match);
    }
    return match;
  }
}
