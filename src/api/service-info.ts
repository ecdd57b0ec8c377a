// Services, their instances and releases as the API shows them: the projections, what agents
// last reported of each instance, and the control loops' last word. Never a secret value: a
// release lists the names of its secrets only.
import type { ControlLoops } from '../reconcile/control-loops.js';
import { occupiesHost } from '../reconcile/observed-state.js';
import type { ReleaseRow } from '../store/projections/releases.js';
import type { ServiceRow } from '../store/projections/services.js';
import type { SqlExecutor } from '../store/sql-driver.js';
import type { ObservedFleet } from './observed-fleet.js';
import type { ReleaseInfo, ServiceInfo, ServiceInstance } from './protocol/service-protocol.js';

interface InstanceRow {
  id: string;
  service_id: string;
  host_id: string;
  release: number;
  replica: number;
  placed_at: Date | string;
  stop_requested_at: Date | string | null;
  stop_reason: string | null;
}

type ServiceTableRow = Omit<ServiceRow, 'created_at' | 'updated_at'> & { created_at: Date | string; updated_at: Date | string };
type ReleaseTableRow = Omit<ReleaseRow, 'created_at' | 'rollout_started_at' | 'rolled_out_at' | 'reverted_at'> & {
  created_at: Date | string;
  rollout_started_at: Date | string | null;
  rolled_out_at: Date | string | null;
  reverted_at: Date | string | null;
};

const iso = (value: Date | string): string => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

// Stopped placements stay in the projection; only those an agent may still run are shown.
const INSTANCES = `SELECT id, service_id, host_id, release, replica, placed_at, stop_requested_at, stop_reason FROM instances
  WHERE service_id = ANY ($1::text[]) AND (stop_requested_at IS NULL OR stop_requested_at > now() - interval '1 day')
  ORDER BY service_id, replica, placed_at`;

export interface ServiceInfoSources {
  readonly db: SqlExecutor;
  readonly fleet: ObservedFleet;
  readonly loops?: ControlLoops;
}

function instanceInfo(row: InstanceRow, fleet: ObservedFleet): ServiceInstance | undefined {
  const observed = fleet.host(row.host_id)?.instances.find((i) => i.id === row.id);
  const stopRequestedAt = isoOrNull(row.stop_requested_at);
  // Asked to stop and no longer reported (or reported as done): nothing left to show.
  if (stopRequestedAt !== null && (observed === undefined || !occupiesHost(observed))) return undefined;
  return {
    id: row.id,
    host: row.host_id,
    release: row.release,
    replica: row.replica,
    placedAt: iso(row.placed_at),
    stopRequestedAt,
    stopReason: row.stop_reason,
    state: observed?.state ?? 'unknown',
    port: observed?.port ?? null,
    ...(observed?.pid === undefined ? {} : { pid: observed.pid }),
    restarts: observed?.restarts ?? 0,
    since: observed === undefined ? null : new Date(observed.since).toISOString(),
    ...(observed?.lastExit ? { lastExit: observed.lastExit } : {}),
    ...(observed?.message === undefined ? {} : { message: observed.message }),
  };
}

export async function listServices(sources: ServiceInfoSources, ids?: readonly string[]): Promise<ServiceInfo[]> {
  const rows =
    ids === undefined
      ? await sources.db.query<ServiceTableRow>(`SELECT * FROM services WHERE status = 'active' ORDER BY tenant, name`)
      : await sources.db.query<ServiceTableRow>(`SELECT * FROM services WHERE id = ANY ($1::text[]) ORDER BY tenant, name`, [ids]);
  const instances = await sources.db.query<InstanceRow>(INSTANCES, [rows.map((r) => r.id)]);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    status: row.status,
    spec: row.spec as unknown as Record<string, unknown>,
    replicas: row.replicas,
    scale: row.scale,
    burst: row.burst,
    latestRelease: row.latest_release,
    activeRelease: row.active_release,
    rollout: row.rollout,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    instances: instances.filter((i) => i.service_id === row.id).flatMap((i) => instanceInfo(i, sources.fleet) ?? []),
    reconcile: sources.loops?.status.service(row.id) ?? null,
    reconcileError: sources.loops?.status.error(`service/${row.id}`) ?? null,
  }));
}

export async function serviceInfo(sources: ServiceInfoSources, id: string): Promise<ServiceInfo | undefined> {
  return (await listServices(sources, [id]))[0];
}

export async function listReleases(db: SqlExecutor, service: Pick<ServiceInfo, 'id' | 'activeRelease' | 'rollout'>): Promise<ReleaseInfo[]> {
  const rows = await db.query<ReleaseTableRow>(`SELECT * FROM releases WHERE service_id = $1 ORDER BY version`, [service.id]);
  return rows.map((r) => ({
    version: r.version,
    digest: r.digest,
    spec: r.spec as unknown as Record<string, unknown>,
    env: { ...r.env },
    secretNames: [...r.secret_names],
    createdAt: iso(r.created_at),
    rolloutStartedAt: isoOrNull(r.rollout_started_at),
    rolledOutAt: isoOrNull(r.rolled_out_at),
    revertedAt: isoOrNull(r.reverted_at),
    revertReason: r.revert_reason,
    active: service.activeRelease === r.version,
    rollingOut: service.rollout?.release === r.version,
  }));
}
