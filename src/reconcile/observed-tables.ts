// Observed state read back from the `observed_*` tables, for a leader that is not the control
// plane every agent reports to (several replicas on one Postgres): whichever replica took a
// heartbeat wrote it there. Refreshed at most once per `maxAgeMs`, before a reconcile pass;
// wake-ups still come from the reports this replica takes itself (`wakeups`).
import type { SqlExecutor } from '../store/sql-driver.js';
import type { InstanceState, ObservedHost, ObservedState } from './observed-state.js';

const READ = `SELECT h.host_id, h.heartbeat_at,
    coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'state', i.state, 'since', floor(extract(epoch FROM i.since) * 1000)))
      FILTER (WHERE i.id IS NOT NULL), '[]'::jsonb) AS instances
  FROM observed_hosts h LEFT JOIN observed_instances i ON i.host_id = h.host_id
  GROUP BY h.host_id, h.heartbeat_at`;

interface Row {
  host_id: string;
  heartbeat_at: Date;
  instances: { id: string; state: InstanceState; since: number }[];
}

export class ObservedTables implements ObservedState {
  #hosts = new Map<string, ObservedHost>();
  #readAt = -Infinity;
  readonly watch?: ObservedState['watch'];

  constructor(
    private readonly db: SqlExecutor,
    private readonly options: { readonly maxAgeMs?: number; readonly wakeups?: Pick<ObservedState, 'watch'> } = {},
  ) {
    const wakeups = options.wakeups?.watch;
    if (wakeups) this.watch = (listener) => wakeups.call(options.wakeups, listener);
  }

  host(hostId: string): ObservedHost | undefined {
    return this.#hosts.get(hostId);
  }

  async refresh(): Promise<void> {
    if (performance.now() - this.#readAt < (this.options.maxAgeMs ?? 1_000)) return;
    const rows = await this.db.query<Row>(READ);
    this.#hosts = new Map(rows.map((r) => [r.host_id, { heartbeatAt: r.heartbeat_at, instances: r.instances.map((i) => ({ ...i, since: Number(i.since) })) }]));
    this.#readAt = performance.now();
  }
}
