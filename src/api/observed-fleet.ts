// Observed state (DESIGN §3): what each host's agent last reported — usage and the state of every
// instance. Not an event: each heartbeat overwrites the last, in `observed_hosts` /
// `observed_instances` and in memory here, where the control loops, the autoscaler, the edges'
// route table and the status APIs read it.
//
// Several replicas (DESIGN §9): an agent reports to any of them, so the memory of one replica is
// not the fleet. Decision: every replica keeps one map, the freshest report of each host whoever
// took it. The reports this replica takes go in as they land (record); the others come from the
// tables, which this replica reads on a short interval (`refreshMs`, 1 s on Postgres): one
// statement for the hosts whose row changed since the previous read, with their instances — not
// a query per request or per instance, and readers stay synchronous. A host's reports take a
// second to reach the other replicas, well within what routing and liveness need (agents report
// every 5 s, a host is lost after 30 s).
//
// Which report is fresher is decided on the database's clock: `heartbeat_at` is the database's
// now() when a replica wrote it, and each copy here keeps that stamp (µs), so this replica's own
// report and one read back are compared exactly, and a report never replaces a newer one. A
// report read from the tables gets `heartbeatAt = this replica's now - (database now -
// heartbeat_at)`: its age as the database sees it, put on this replica's clock, so skew between
// replicas neither ages nor revives a host (as for edge reports, src/reconcile/load-reports.ts).
//
// "Changed since the previous read" is by transaction, as the event store reads its log: each host
// row carries the id of the transaction that last wrote it (`tx_id`), and a read takes the rows
// with `tx_id >= cursor`, then moves the cursor to its own snapshot's oldest transaction still
// running in this database (src/store/settled-horizon.ts). Every transaction below it that could
// write here had ended when the read looked, so its rows were read then; any later write has a
// `tx_id` at or above it, so the next read takes it however long its transaction ran. A long
// transaction in another database on the same server does not hold the cursor back. A row can be
// read twice (written by a transaction above the cursor but already
// committed): its stamp is no newer than the one held, so it changes nothing and wakes no one. The
// first read (cursor 0) takes every host, so a restarted control plane knows the fleet before the
// next heartbeats.
//
// Reports learned from the tables are told to watchers like the ones taken here, with
// `instancesChanged` against the report they replace: the edges' route table rebuilds (and its
// version moves, waking long-polls) when readiness changes on a host that reports elsewhere, and
// the leader's loops wake for hosts that report to a follower.
//
// On PGlite (`berth up`) no other process writes the tables: one read at start, no interval.
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { instancesChanged, type HostReport } from '../reconcile/observed-state.js';
import { DatabaseClock, DB_NOW } from '../store/database-clock.js';
import { SETTLED_HORIZON } from '../store/settled-horizon.js';
import type { SqlDriver } from '../store/sql-driver.js';
import type { heartbeatRequestSchema } from './protocol/agent-protocol.js';

export type Heartbeat = z.output<typeof heartbeatRequestSchema>;
export type ReportedInstance = Heartbeat['instances'][number];

export interface HostObservation {
  readonly hostId: string;
  /** when the report was taken, on this control plane's clock */
  readonly heartbeatAt: Date;
  readonly agent: Heartbeat['agent'];
  readonly usage: Heartbeat['usage'];
  readonly instances: readonly ReportedInstance[];
}

/** What watchers hear after each report, taken here or read from the tables: the observation, and whether its instances changed. */
export type ObservedReport = HostObservation & HostReport;

export interface ObservedFleetOptions {
  /** Stamps and reads on this clock instead of the database's now() (tests). */
  readonly clock?: () => Date;
  /** ms between reads of the reports other replicas took; default 1 s on Postgres, none on PGlite. */
  readonly refreshMs?: number;
  readonly log?: (error: unknown) => void;
}

const STAMP_US = (column: string): string => `(extract(epoch FROM ${column}) * 1000000)::float8`;

// tx_id is stamped by a trigger on every insert and update (migration 6), whichever code wrote the row
const UPSERT_HOST = `INSERT INTO observed_hosts (host_id, heartbeat_at, agent, usage) VALUES ($2, ${DB_NOW}, $3::jsonb, $4::jsonb)
  ON CONFLICT (host_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, agent = excluded.agent, usage = excluded.usage
    -- two reports of one host in flight at once (an agent retrying on another replica): the older
    -- one, committing last, must not overwrite the newer; it then returns no row
    WHERE observed_hosts.heartbeat_at <= excluded.heartbeat_at
  RETURNING ${STAMP_US('heartbeat_at')} AS stamp_us`;
// The heartbeat is the host's whole truth: what it no longer reports is gone from it.
const DELETE_GONE = `DELETE FROM observed_instances WHERE host_id = $1 AND NOT (id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb))))`;
const UPSERT_INSTANCES = `INSERT INTO observed_instances SELECT * FROM jsonb_populate_recordset(null::observed_instances, $1::jsonb)
  ON CONFLICT (id) DO UPDATE SET host_id = excluded.host_id, state = excluded.state, port = excluded.port, pid = excluded.pid,
    restarts = excluded.restarts, last_exit = excluded.last_exit, message = excluded.message, rss_bytes = excluded.rss_bytes,
    cpu_millicores = excluded.cpu_millicores, since = excluded.since, reported_at = excluded.reported_at, adopted = excluded.adopted`;

// The instances as the agent sent them: absent fields stay absent (lastExit is added apart, its
// own nulls being meaningful).
const INSTANCE_JSON = `jsonb_strip_nulls(jsonb_build_object('id', i.id, 'state', i.state, 'port', i.port, 'pid', i.pid, 'restarts', i.restarts,
    'message', i.message, 'rssBytes', i.rss_bytes, 'cpuMillicores', i.cpu_millicores, 'adopted', i.adopted,
    'since', round(extract(epoch FROM i.since) * 1000)))
  || CASE WHEN i.last_exit IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('lastExit', i.last_exit) END`;
// `$2` is the cursor (0 on the first read); the new one is this statement's own settled horizon
// (its snapshot's oldest open transaction of this database, settled-horizon.ts).
// One row with a null host when nothing changed, to carry the cursor.
const READ_CHANGED = `WITH clock AS (SELECT ${DB_NOW} AS now, ${SETTLED_HORIZON}::text AS cursor)
  SELECT clock.cursor, h.host_id, h.agent, h.usage, ${STAMP_US('h.heartbeat_at')} AS stamp_us,
    extract(epoch FROM clock.now - h.heartbeat_at)::float8 * 1000 AS age_ms,
    (SELECT coalesce(jsonb_agg(${INSTANCE_JSON}), '[]'::jsonb) FROM observed_instances i WHERE i.host_id = h.host_id) AS instances
  FROM clock LEFT JOIN observed_hosts h ON h.tx_id >= $2::text::xid8`;

interface ChangedRow {
  /** an xid8 as text: it may pass 2^53, and it only goes back to the database */
  cursor: string;
  host_id: string | null;
  agent: Heartbeat['agent'];
  usage: Heartbeat['usage'];
  stamp_us: number;
  age_ms: number;
  instances: ReportedInstance[];
}

interface Held {
  readonly observation: HostObservation;
  /** `heartbeat_at` of the report, µs on the database's clock: which of two reports is newer */
  readonly stamp: number;
}

export class ObservedFleet {
  readonly #hosts = new Map<string, Held>();
  readonly #listeners = new Set<(report: ObservedReport) => void>();
  readonly #stop = new AbortController();
  /** the previous read's settled horizon: rows written by transactions from it on are not read yet */
  #cursor = '0';
  #reading: Promise<void> | undefined;

  readonly #clock: DatabaseClock;

  constructor(
    private readonly db: SqlDriver,
    private readonly options: ObservedFleetOptions = {},
  ) {
    this.#clock = new DatabaseClock(options.clock);
  }

  /** Reads the tables now, then every `refreshMs` until close(). */
  start(): this {
    const every = this.options.refreshMs ?? (this.db.kind === 'pglite' ? undefined : 1_000);
    this.#reading ??= (async () => {
      do {
        try {
          await this.readTables();
        } catch (error) {
          if (this.#stop.signal.aborted) return;
          // The database went away for a moment: what is held stays, and ages.
          this.options.log?.(error);
        }
        if (every === undefined) return;
        await sleep(every, undefined, { signal: this.#stop.signal }).catch(() => undefined);
      } while (!this.#stop.signal.aborted);
    })();
    return this;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#reading;
  }

  async record(hostId: string, heartbeat: Heartbeat): Promise<HostObservation> {
    const observation: HostObservation = { hostId, heartbeatAt: this.#clock.now(), agent: heartbeat.agent, usage: heartbeat.usage, instances: heartbeat.instances };
    const at = observation.heartbeatAt.toISOString();
    const rows = heartbeat.instances.map((i) => ({
      id: i.id,
      host_id: hostId,
      state: i.state,
      port: i.port ?? null,
      pid: i.pid ?? null,
      restarts: i.restarts,
      last_exit: i.lastExit ?? null,
      message: i.message ?? null,
      rss_bytes: i.rssBytes ?? null,
      cpu_millicores: i.cpuMillicores === undefined ? null : Math.round(i.cpuMillicores),
      since: new Date(i.since).toISOString(),
      reported_at: at,
      adopted: i.adopted,
    }));
    const stamp = await this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ stamp_us: number }>(UPSERT_HOST, [this.#clock.stamp(), hostId, JSON.stringify(heartbeat.agent), JSON.stringify(heartbeat.usage)]);
      // a newer report of the host is in the tables already: this one is history
      if (row === undefined) return undefined;
      await tx.query(DELETE_GONE, [hostId, JSON.stringify(rows.map((r) => r.id))]);
      if (rows.length > 0) await tx.query(UPSERT_INSTANCES, [JSON.stringify(rows)]);
      return row.stamp_us;
    });
    // A report of the same instant as the one held replaces it: two heartbeats on one test clock.
    if (stamp !== undefined) this.#hold(hostId, { observation, stamp }, true);
    return observation;
  }

  /**
   * Reads the reports written since the previous read, by any replica; start() calls it on its
   * interval. Returns how many host rows it read, re-reads included: 0 when nothing was written.
   */
  async readTables(): Promise<number> {
    const rows = await this.db.query<ChangedRow>(READ_CHANGED, [this.#clock.stamp(), this.#cursor]);
    const now = this.#clock.now().getTime();
    let read = 0;
    for (const row of rows) {
      if (row.host_id === null) continue;
      read++;
      const observation: HostObservation = { hostId: row.host_id, heartbeatAt: new Date(now - row.age_ms), agent: row.agent, usage: row.usage, instances: row.instances };
      this.#hold(row.host_id, { observation, stamp: row.stamp_us }, false);
    }
    if (rows[0] !== undefined) this.#cursor = rows[0].cursor;
    return read;
  }

  host(hostId: string): HostObservation | undefined {
    return this.#hosts.get(hostId)?.observation;
  }

  hosts(): HostObservation[] {
    return [...this.#hosts.values()].map((h) => h.observation);
  }

  /** The last report of an instance, from whichever host runs it. */
  instance(id: string): (ReportedInstance & { hostId: string }) | undefined {
    for (const { observation: host } of this.#hosts.values()) {
      const found = host.instances.find((i) => i.id === id);
      if (found) return { ...found, hostId: host.hostId };
    }
    return undefined;
  }

  /** Calls `listener` after each report taken here or read from the tables; returns the unsubscribe. */
  watch(listener: (report: ObservedReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Keeps the report unless the one held is newer, or as new when `sameInstant` is false (a
   * report read back from the tables that this replica took itself); tells the watchers.
   */
  #hold(hostId: string, next: Held, sameInstant: boolean): void {
    const held = this.#hosts.get(hostId);
    if (held !== undefined && (sameInstant ? held.stamp > next.stamp : held.stamp >= next.stamp)) return;
    // Compared with what is held now, not before the write: reports of one host that overlap are
    // compared in the order they land.
    const report: ObservedReport = { ...next.observation, instancesChanged: instancesChanged(held?.observation.instances, next.observation.instances) };
    this.#hosts.set(hostId, next);
    for (const listener of this.#listeners) listener(report);
  }
}
