// What the autoscale loop hears besides heartbeats, held in memory on the control plane that
// receives it (DESIGN §3: observed state is not an event): the latest load report of each edge,
// the external metrics pushed for services, and the activations edges asked for at zero. The
// same reports say which leaving instances the edges are done with (agents ask before a stop).
import { drainAtEdges, type DrainAtEdges, type EdgeDrainReport, type EdgeInstanceState } from './drain-at-edges.js';

/** What the loop reads of an edge's report (`POST /v1/edge/metrics`, src/edge/metrics-report.ts). */
export interface EdgeLoadReport {
  readonly edge: string;
  readonly services: readonly {
    readonly service: string;
    readonly concurrency: number;
    readonly rps: number;
    readonly queued: number;
    /** the instances the edge knows, with their drain state; absent from a report that leaves them out */
    readonly instances?: readonly ({ readonly id: string } & EdgeInstanceState)[];
  }[];
}

/** A report older than this is an edge that stopped reporting; its load no longer counts. */
export const EDGE_REPORT_TTL_MS = 5_000;
/** External metrics come from cron jobs and queue exporters, pushed every 15-60 s typically. */
export const METRIC_TTL_MS = 5 * 60_000;

export interface EdgeLoad {
  /** Time-weighted mean in-flight requests plus those waiting at the edge, summed over edges. */
  readonly concurrency: number;
  readonly rps: number;
  readonly queued: number;
  /** Edges whose latest report lists the service. */
  readonly edges: number;
}

export interface Activation {
  readonly at: number;
  readonly edge: string;
  readonly queued: number;
}

export interface ExternalMetric {
  readonly value: number;
  readonly at: number;
}

export class LoadReports {
  readonly #edges = new Map<string, { at: number; report: EdgeLoadReport; drain: EdgeDrainReport }>();
  readonly #metrics = new Map<string, Map<string, ExternalMetric>>();
  readonly #activations = new Map<string, Activation[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Replaces the edge's previous report; times are this control plane's, not the edge's clock. */
  edgeReport(report: EdgeLoadReport): void {
    const at = this.now();
    const instances = new Map<string, EdgeInstanceState>();
    for (const service of report.services) for (const { id, leaving, drained } of service.instances ?? []) instances.set(id, { leaving, drained });
    this.#edges.set(report.edge, { at, report, drain: { edge: report.edge, at, instances } });
  }

  /** Whether the live edges are done with a leaving instance (drain-at-edges.ts). */
  drainAtEdges(instance: string, now: number = this.now()): DrainAtEdges {
    return drainAtEdges(instance, [...this.#edges.values()].map((e) => e.drain), now, EDGE_REPORT_TTL_MS);
  }

  metric(service: string, name: string, value: number): ExternalMetric {
    const metric = { value, at: this.now() };
    let byName = this.#metrics.get(service);
    if (byName === undefined) this.#metrics.set(service, (byName = new Map()));
    byName.set(name, metric);
    return metric;
  }

  activation(service: string, edge: string, queued: number): void {
    const list = this.#activations.get(service) ?? [];
    list.push({ at: this.now(), edge, queued });
    this.#activations.set(service, list);
  }

  /**
   * The service's load over every edge that reported within the TTL, under any of its names
   * (the route table names a service by id; a report may use its name). Undefined when no fresh
   * report lists it: the autoscaler holds rather than read silence as no load.
   */
  edgeLoad(names: readonly string[], now: number = this.now()): EdgeLoad | undefined {
    let concurrency = 0;
    let rps = 0;
    let queued = 0;
    let edges = 0;
    for (const [edge, { at, report }] of this.#edges) {
      if (now - at > EDGE_REPORT_TTL_MS) {
        this.#edges.delete(edge);
        continue;
      }
      const load = report.services.find((s) => names.includes(s.service));
      if (load === undefined) continue;
      edges++;
      concurrency += load.concurrency + load.queued;
      rps += load.rps;
      queued += load.queued;
    }
    return edges === 0 ? undefined : { concurrency, rps, queued, edges };
  }

  /** The latest value pushed within the TTL, under any of the service's names. */
  externalMetric(names: readonly string[], metric: string, now: number = this.now()): ExternalMetric | undefined {
    let latest: ExternalMetric | undefined;
    for (const name of names) {
      const found = this.#metrics.get(name)?.get(metric);
      if (found !== undefined && now - found.at <= METRIC_TTL_MS && (latest === undefined || found.at > latest.at)) latest = found;
    }
    return latest;
  }

  /** The activations since the last call, oldest first; each is handed out once. */
  takeActivations(names: readonly string[]): Activation[] {
    const taken: Activation[] = [];
    for (const name of names) {
      taken.push(...(this.#activations.get(name) ?? []));
      this.#activations.delete(name);
    }
    return taken.sort((a, b) => a.at - b.at);
  }
}
