// Observed state (DESIGN §3): what each agent last reported — host usage and the state of every
// instance. Not an event: it is overwritten by each heartbeat, held in memory for the control
// loops and written to `observed_hosts` / `observed_instances` for the API and a restarted leader.
import type { z } from 'zod';
import { instancesChanged, type HostReport } from '../reconcile/observed-state.js';
import type { SqlDriver } from '../store/sql-driver.js';
import type { heartbeatRequestSchema } from './protocol/agent-protocol.js';

export type Heartbeat = z.output<typeof heartbeatRequestSchema>;
export type ReportedInstance = Heartbeat['instances'][number];

export interface HostObservation {
  readonly hostId: string;
  readonly heartbeatAt: Date;
  readonly agent: Heartbeat['agent'];
  readonly usage: Heartbeat['usage'];
  readonly instances: readonly ReportedInstance[];
}

/** What watchers hear after each heartbeat: the observation, and whether its instances changed. */
export type ObservedReport = HostObservation & HostReport;

export class ObservedFleet {
  readonly #hosts = new Map<string, HostObservation>();
  readonly #listeners = new Set<(report: ObservedReport) => void>();

  constructor(
    private readonly db: SqlDriver,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(hostId: string, heartbeat: Heartbeat): Promise<HostObservation> {
    const observation: HostObservation = { hostId, heartbeatAt: this.now(), agent: heartbeat.agent, usage: heartbeat.usage, instances: heartbeat.instances };
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
    }));
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO observed_hosts (host_id, heartbeat_at, agent, usage) VALUES ($1, $2, $3::jsonb, $4::jsonb)
         ON CONFLICT (host_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, agent = excluded.agent, usage = excluded.usage`,
        [hostId, at, JSON.stringify(heartbeat.agent), JSON.stringify(heartbeat.usage)],
      );
      // The heartbeat is the host's whole truth: what it no longer reports is gone from it.
      await tx.query(
        `DELETE FROM observed_instances WHERE host_id = $1 AND NOT (id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb))))`,
        [hostId, JSON.stringify(rows.map((r) => r.id))],
      );
      if (rows.length > 0) {
        await tx.query(
          `INSERT INTO observed_instances SELECT * FROM jsonb_populate_recordset(null::observed_instances, $1::jsonb)
           ON CONFLICT (id) DO UPDATE SET host_id = excluded.host_id, state = excluded.state, port = excluded.port, pid = excluded.pid,
             restarts = excluded.restarts, last_exit = excluded.last_exit, message = excluded.message, rss_bytes = excluded.rss_bytes,
             cpu_millicores = excluded.cpu_millicores, since = excluded.since, reported_at = excluded.reported_at`,
          [JSON.stringify(rows)],
        );
      }
    });
    // Compared with what is in memory now, not before the write: reports of one host that
    // overlap are compared in the order they land.
    const report: ObservedReport = { ...observation, instancesChanged: instancesChanged(this.#hosts.get(hostId)?.instances, observation.instances) };
    this.#hosts.set(hostId, observation);
    for (const listener of this.#listeners) listener(report);
    return observation;
  }

  host(hostId: string): HostObservation | undefined {
    return this.#hosts.get(hostId);
  }

  hosts(): HostObservation[] {
    return [...this.#hosts.values()];
  }

  /** The last report of an instance, from whichever host runs it. */
  instance(id: string): (ReportedInstance & { hostId: string }) | undefined {
    for (const host of this.#hosts.values()) {
      const found = host.instances.find((i) => i.id === id);
      if (found) return { ...found, hostId: host.hostId };
    }
    return undefined;
  }

  /** Calls `listener` after each recorded heartbeat; returns the unsubscribe. */
  watch(listener: (report: ObservedReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
