// What the autoscale loop hears besides heartbeats (DESIGN §3: observed state, not events): the
// latest load report of each edge, the external metrics pushed for services, and the activations
// edges asked for at zero. The same reports say which leaving instances the edges are done with
// (agents ask before a stop).
//
// Everything goes through the database, on one control plane as on several. Edges, agents and
// pushers reach any replica while the autoscaler runs on the leader, so the replica that takes a
// report writes it (one upsert per edge per report, every second) and readers read the fresh rows:
// the leader once per tick, a replica asked `POST /v1/agent/drains` once per question. No
// in-memory fast path for one replica: on PGlite these are in-process statements of well under a
// millisecond, once a second, and a second path would be a second behaviour to keep right (and a
// replica cannot tell that it is alone).
//
// Times are the database's (now()), for writing and for reading: a report is fresh while
// now() - received_at is within its TTL, so clock skew between replicas cannot age or revive one.
// Ages come back in ms and are put on the reader's clock (`at = reader now - age`). A test gives
// `clock` to stamp and read on its own time instead.
import { DatabaseClock, DB_NOW } from '../store/database-clock.js';
import type { SqlExecutor } from '../store/sql-driver.js';
import { drainAtEdges, type DrainAtEdges, type EdgeDrainReport, type EdgeInstanceState } from './drain-at-edges.js';
import { LoadSnapshot, type EdgeServiceLoad, type ExternalMetric } from './load-snapshot.js';

/** What the loop reads of an edge's report (`POST /v1/edge/metrics`, src/edge/metrics-report.ts). */
export interface EdgeLoadReport {
  readonly edge: string;
  readonly services: readonly (Omit<EdgeServiceLoad, 'open'> & {
    /** in flight now, and client connections pinned now (absent from older edges) */
    readonly inFlight?: number;
    readonly connections?: number;
    /** the instances the edge knows, with their drain state; absent from a report that leaves them out */
    readonly instances?: readonly ({ readonly id: string } & EdgeInstanceState)[];
  })[];
}

/** A report older than this is an edge that stopped reporting; its load no longer counts. */
export const EDGE_REPORT_TTL_MS = 5_000;
/**
 * An edge's last report is kept this long: its word on a draining instance stands until another
 * edge has reported since (drain-at-edges.ts), and a stop waits at most the grace period.
 */
export const EDGE_ROW_KEEP_MS = 10 * 60_000;
/** External metrics come from cron jobs and queue exporters, pushed every 15-60 s typically. */
export const METRIC_TTL_MS = 5 * 60_000;

export interface Activation {
  readonly service: string;
  /** when a control plane received it (ms), on the reader's clock */
  readonly at: number;
  readonly edge: string;
  readonly queued: number;
}

const AGE_MS = (column: string): string => `extract(epoch FROM ${DB_NOW} - ${column})::float8 * 1000`;
const FRESH = (column: string, ttlMs: number): string => `${column} >= ${DB_NOW} - interval '${ttlMs} milliseconds'`;

const UPSERT_EDGE = `INSERT INTO observed_edge_loads (edge, received_at, services, instances) VALUES ($2, ${DB_NOW}, $3::jsonb, $4::jsonb)
  ON CONFLICT (edge) DO UPDATE SET received_at = excluded.received_at, services = excluded.services, instances = excluded.instances`;
const UPSERT_METRIC = `INSERT INTO observed_metrics (service, metric, value, received_at) VALUES ($2, $3, $4, ${DB_NOW})
  ON CONFLICT (service, metric) DO UPDATE SET value = excluded.value, received_at = excluded.received_at
  RETURNING received_at`;
const INSERT_ACTIVATION = `INSERT INTO pending_activations (service, edge, queued, received_at) VALUES ($2, $3, $4, ${DB_NOW})`;
// Only the asked instances, looked up by key in each kept edge's map of them, with the age of the
// newest report of any edge (drain-at-edges.ts weighs each edge's silence against it).
const DRAINS = `SELECT e.edge, x.id, e.instances -> x.id AS state, ${AGE_MS('e.received_at')} AS age_ms,
    ${AGE_MS('(SELECT max(received_at) FROM observed_edge_loads)')} AS newest_age_ms
  FROM observed_edge_loads e CROSS JOIN unnest($2::text[]) AS x(id)
  WHERE ${FRESH('e.received_at', EDGE_ROW_KEEP_MS)} AND e.instances -> x.id IS NOT NULL`;
// The leader's reads also drop what went stale (an edge gone for EDGE_ROW_KEEP_MS, a metric no
// one pushes any more): nothing would ever read those rows again. The SELECT sees the rows as
// they were before the DELETE; the load counts only fresh reports.
const EDGE_LOADS = `WITH stale AS (DELETE FROM observed_edge_loads WHERE NOT (${FRESH('received_at', EDGE_ROW_KEEP_MS)}))
  SELECT services FROM observed_edge_loads WHERE ${FRESH('received_at', EDGE_REPORT_TTL_MS)}`;
const METRICS = `WITH stale AS (DELETE FROM observed_metrics WHERE NOT (${FRESH('received_at', METRIC_TTL_MS)}))
  SELECT service, metric, value, ${AGE_MS('received_at')} AS age_ms FROM observed_metrics WHERE ${FRESH('received_at', METRIC_TTL_MS)}`;
// Deleted as they are read: of two control planes taking at once (a leadership handover), each
// row goes to one.
const TAKE_ACTIVATIONS = `DELETE FROM pending_activations RETURNING service, edge, queued, ${AGE_MS('received_at')} AS age_ms`;

export class LoadReports {
  readonly #clock: DatabaseClock;

  constructor(
    private readonly db: SqlExecutor,
    options: { readonly clock?: () => Date } = {},
  ) {
    this.#clock = new DatabaseClock(options.clock);
  }

  /** Replaces the edge's previous report. */
  async edgeReport(report: EdgeLoadReport): Promise<void> {
    const services: EdgeServiceLoad[] = [];
    const instances: Record<string, EdgeInstanceState> = {};
    for (const { service, concurrency, rps, queued, inFlight, connections, instances: known } of report.services) {
      // without inFlight the row has no `open`, and the reader's stand-in applies (load-snapshot.ts)
      services.push({ service, concurrency, rps, queued, ...(inFlight === undefined ? {} : { open: inFlight + (connections ?? 0) + queued }) });
      for (const { id, leaving, drained } of known ?? []) instances[id] = { leaving, drained };
    }
    await this.db.query(UPSERT_EDGE, [this.#clock.stamp(), report.edge, JSON.stringify(services), JSON.stringify(instances)]);
  }

  /** Replaces the service's previous value of the metric; `at` is the database's time of it. */
  async metric(service: string, name: string, value: number): Promise<ExternalMetric> {
    const [row] = await this.db.query<{ received_at: Date }>(UPSERT_METRIC, [this.#clock.stamp(), service, name, value]);
    return { value, at: new Date(row!.received_at).getTime() };
  }

  async activation(service: string, edge: string, queued: number): Promise<void> {
    await this.db.query(INSERT_ACTIVATION, [this.#clock.stamp(), service, edge, queued]);
  }

  /** Whether the live edges are done with each of the leaving `instances` (drain-at-edges.ts); one query. */
  async drainAtEdges(instances: readonly string[]): Promise<Map<string, DrainAtEdges>> {
    const rows =
      instances.length === 0
        ? []
        : await this.db.query<{ edge: string; id: string; state: EdgeInstanceState; age_ms: number; newest_age_ms: number }>(DRAINS, [this.#clock.stamp(), [...instances]]);
    const now = this.#clock.now().getTime();
    // without rows no edge lists any of them: `newest` is then never read
    const newest = rows.length === 0 ? now : now - rows[0]!.newest_age_ms;
    const reports = new Map<string, EdgeDrainReport[]>();
    for (const { edge, id, state, age_ms } of rows) {
      const list = reports.get(id) ?? [];
      list.push({ edge, at: now - age_ms, instances: new Map([[id, { leaving: state.leaving, drained: state.drained }]]) });
      reports.set(id, list);
    }
    return new Map(instances.map((id) => [id, drainAtEdges(id, reports.get(id) ?? [], newest, EDGE_REPORT_TTL_MS)]));
  }

  /** The fresh edge reports and external metrics, for one autoscaler tick; drops stale rows. */
  async read(): Promise<LoadSnapshot> {
    const at = this.#clock.stamp();
    const [edges, metrics] = await Promise.all([
      this.db.query<{ services: EdgeServiceLoad[] }>(EDGE_LOADS, [at]),
      this.db.query<{ service: string; metric: string; value: number; age_ms: number }>(METRICS, [at]),
    ]);
    const now = this.#clock.now().getTime();
    return new LoadSnapshot(
      edges.map((e) => e.services),
      metrics.map((m) => ({ service: m.service, metric: m.metric, value: m.value, at: now - m.age_ms })),
    );
  }

  /** Every activation not yet taken, oldest first; each is handed out once, whichever replica took it. */
  async takeActivations(): Promise<Activation[]> {
    const rows = await this.db.query<{ service: string; edge: string; queued: number; age_ms: number }>(TAKE_ACTIVATIONS, [this.#clock.stamp()]);
    const now = this.#clock.now().getTime();
    return rows.map((r) => ({ service: r.service, edge: r.edge, queued: r.queued, at: now - r.age_ms })).sort((a, b) => a.at - b.at);
  }

}
