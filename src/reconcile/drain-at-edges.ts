// Whether the edges are done with a leaving instance (DESIGN §6, issue 5 item 7): read from
// their latest load reports, which list each instance an edge knows with `leaving` and
// `drained`. Pure: the reports and the times are parameters.

/** What one edge's latest report says of one instance. */
export interface EdgeInstanceState {
  /** the edge has seen it draining (or gone from its table) and sends it nothing new */
  readonly leaving: boolean;
  /** leaving, and nothing in flight or connected to it */
  readonly drained: boolean;
}

/** One edge's latest report, as far as draining goes. */
export interface EdgeDrainReport {
  readonly edge: string;
  /** when a control plane received it (ms), on the reader's clock */
  readonly at: number;
  /** every instance the edge still knows, by id */
  readonly instances: ReadonlyMap<string, EdgeInstanceState>;
}

export interface DrainAtEdges {
  /** no live edge carries it or may still send it new work: it can be stopped now */
  readonly drained: boolean;
  /** the live edges that still carry it, or have not yet seen it leave */
  readonly holding: readonly string[];
}

/**
 * Every live edge either does not list the instance (it never routed it, its table predates it,
 * or it let it go once drained) or lists it leaving and drained. An edge that lists it not
 * leaving has not yet seen the table that drains it and may still send it new requests: it holds
 * the stop like one with requests in flight.
 *
 * An edge whose latest report came more than `liveMs` before the newest report of any edge
 * (`newest`) is not waited for: reports come every second, so while others still report it is
 * down or cut off, and waiting would only delay the stop to the grace end (which bounds every
 * wait anyway). Silence alone is not taken for drained: when no edge has reported lately (the
 * control plane or its database fell behind, or every edge is cut off), the last word of each
 * stands, and the grace end bounds the wait. An instance no edge routes (no http or tcp route) is
 * drained from the start.
 */
export function drainAtEdges(instance: string, reports: Iterable<EdgeDrainReport>, newest: number, liveMs: number): DrainAtEdges {
  const holding: string[] = [];
  for (const report of reports) {
    if (newest - report.at > liveMs) continue;
    const state = report.instances.get(instance);
    if (state !== undefined && !(state.leaving && state.drained)) holding.push(report.edge);
  }
  return { drained: holding.length === 0, holding: holding.sort() };
}
