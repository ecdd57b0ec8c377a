// Hosts as `berth hosts` shows them: the projection row, what is placed on each (from the
// releases of its live instances) and what its agent last reported.
import type { HostRow } from '../store/projections/hosts.js';
import type { SqlExecutor } from '../store/sql-driver.js';
import type { ObservedFleet } from './observed-fleet.js';
import type { HostSummary } from './protocol/host-protocol.js';

const PLACED = `SELECT i.host_id, count(*)::int AS instances,
    coalesce(sum((r.spec->'resources'->>'memory')::bigint), 0)::bigint AS memory,
    coalesce(sum((r.spec->'resources'->>'cpu')::bigint), 0)::bigint AS cpu
  FROM instances i JOIN releases r ON r.service_id = i.service_id AND r.version = i.release
  WHERE i.stop_requested_at IS NULL AND ($1::text IS NULL OR i.host_id = $1)
  GROUP BY i.host_id`;

interface PlacedRow {
  host_id: string;
  instances: number;
  memory: number | string;
  cpu: number | string;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

export function hostState(row: Pick<HostRow, 'status' | 'cordoned' | 'drain'>): HostSummary['state'] {
  if (row.status !== 'active') return row.status;
  if (row.drain !== null) return 'draining';
  return row.cordoned ? 'cordoned' : 'ready';
}

export async function hostSummaries(db: SqlExecutor, fleet: ObservedFleet, only?: HostRow): Promise<HostSummary[]> {
  const [rows, placed] = await Promise.all([
    only ? Promise.resolve([only]) : db.query<HostRow>(`SELECT * FROM hosts ORDER BY status = 'decommissioned', name, id`),
    db.query<PlacedRow>(PLACED, [only?.id ?? null]),
  ]);
  const byHost = new Map(placed.map((p) => [p.host_id, p]));
  return rows.map((row) => {
    const p = byHost.get(row.id);
    const seen = fleet.host(row.id);
    const instances = p?.instances ?? 0;
    return {
      id: row.id,
      name: row.name,
      state: hostState(row),
      address: row.address,
      region: row.region,
      labels: { ...row.labels },
      allocatable: { memory: Number(row.memory), cpu: Number(row.cpu) },
      placed: { memory: Number(p?.memory ?? 0), cpu: Number(p?.cpu ?? 0) },
      usedMemory: seen?.usage.memory.used ?? null,
      instances,
      lastHeartbeat: seen?.heartbeatAt.toISOString() ?? iso(row.last_seen),
      memoryEnforcement: seen?.agent.memoryEnforcement ?? null,
      drain: row.drain === null ? null : { deadline: row.drain.deadline, maxParallel: row.drain.maxParallel, remaining: instances },
    };
  });
}
