// The edges' load and the external metrics as the autoscaler reads them once per tick: the fresh
// rows of `observed_edge_loads` and `observed_metrics` (load-reports.ts), indexed for lookups by
// a service's names. Pure: freshness was decided when the rows were read.

/** One service's line in an edge's report, as stored. */
export interface EdgeServiceLoad {
  readonly service: string;
  readonly concurrency: number;
  readonly rps: number;
  readonly queued: number;
  /** requests in flight, connections pinned and requests queued at the edge now; absent from older rows */
  readonly open?: number;
}

export interface EdgeLoad {
  /** Time-weighted mean in-flight requests plus those waiting at the edge, summed over edges. */
  readonly concurrency: number;
  readonly rps: number;
  readonly queued: number;
  /** Work open at the edges now, summed over edges (EdgeServiceLoad.open): what keeps a min-0 service from idling. */
  readonly open: number;
  /** Edges whose latest report lists the service. */
  readonly edges: number;
}

export interface ExternalMetric {
  readonly value: number;
  /** when a control plane received it (ms) */
  readonly at: number;
}

export class LoadSnapshot {
  /** per fresh edge: its report's lines by service name */
  readonly #edges: readonly ReadonlyMap<string, EdgeServiceLoad>[];
  readonly #metrics = new Map<string, Map<string, ExternalMetric>>();

  constructor(
    edges: readonly (readonly EdgeServiceLoad[])[],
    metrics: readonly ({ readonly service: string; readonly metric: string } & ExternalMetric)[],
  ) {
    // The first line wins when a report names a service twice, as the in-memory reader did.
    this.#edges = edges.map((services) => {
      const byName = new Map<string, EdgeServiceLoad>();
      for (const s of services) if (!byName.has(s.service)) byName.set(s.service, s);
      return byName;
    });
    for (const { service, metric, value, at } of metrics) {
      let byName = this.#metrics.get(service);
      if (byName === undefined) this.#metrics.set(service, (byName = new Map()));
      byName.set(metric, { value, at });
    }
  }

  /**
   * The service's load over every fresh edge report, under any of its names (the route table
   * names a service by id; a report may use its name). Undefined when no fresh report lists it:
   * the autoscaler holds rather than read silence as no load.
   */
  edgeLoad(names: readonly string[]): EdgeLoad | undefined {
    let concurrency = 0;
    let rps = 0;
    let queued = 0;
    let open = 0;
    let edges = 0;
    for (const report of this.#edges) {
      const load = names.map((name) => report.get(name)).find((l) => l !== undefined);
      if (load === undefined) continue;
      edges++;
      concurrency += load.concurrency + load.queued;
      rps += load.rps;
      queued += load.queued;
      // a row without `open` (an older replica or edge): the mean in flight and the queue stand in
      open += load.open ?? load.concurrency + load.queued;
    }
    return edges === 0 ? undefined : { concurrency, rps, queued, open, edges };
  }

  /** The latest fresh value pushed, under any of the service's names. */
  externalMetric(names: readonly string[], metric: string): ExternalMetric | undefined {
    let latest: ExternalMetric | undefined;
    for (const name of names) {
      const found = this.#metrics.get(name)?.get(metric);
      if (found !== undefined && (latest === undefined || found.at > latest.at)) latest = found;
    }
    return latest;
  }
}
