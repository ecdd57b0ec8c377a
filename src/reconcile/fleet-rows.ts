// The projection rows a control-loop pass plans from: every host that can still hold work, the
// placements on them with what their release asks for, and the volumes that pin instances.
import type { Resources } from '../core/resources.js';
import type { PlacementSpec } from '../spec/placement.js';
import type { HostRow } from '../store/projections/hosts.js';
import type { SqlExecutor } from '../store/sql-driver.js';
import { occupiesHost, type ObservedState } from './observed-state.js';

export type FleetHostRow = Pick<HostRow, 'id' | 'name' | 'region' | 'memory' | 'cpu' | 'labels' | 'status' | 'cordoned' | 'drain'> & {
  readonly enrolledAt: Date;
};

export interface FleetInstanceRow {
  readonly id: string;
  readonly service: string;
  readonly host: string;
  readonly release: number;
  /** A fixed host port chosen at placement; null when the agent allocates $PORT. */
  readonly port: number | null;
  readonly replica: number;
  readonly placedAt: Date;
  readonly stopRequested: boolean;
  /** From the instance's release: what it takes from its host. */
  readonly resources: Resources;
  /** The release's fixed host ports (an `infra` service). */
  readonly ports: readonly number[];
  readonly placement: PlacementSpec;
}

export interface FleetVolumeRow {
  readonly id: string;
  readonly service: string;
  readonly host: string;
}

export interface FleetRows {
  readonly hosts: readonly FleetHostRow[];
  /** Placements not asked to stop, plus those asked to stop that are still running (`stopping`). */
  readonly instances: readonly FleetInstanceRow[];
  readonly volumes: readonly FleetVolumeRow[];
}

const HOSTS = `SELECT id, name, region, memory, cpu, labels, status, cordoned, drain, enrolled_at
  FROM hosts WHERE status <> 'decommissioned' ORDER BY id`;

const INSTANCES = `SELECT i.id, i.service_id, i.host_id, i.release, i.port, i.replica, i.placed_at,
    i.stop_requested_at IS NOT NULL AS stop_requested,
    r.spec->'resources' AS resources, r.spec->'ports' AS ports, r.spec->'placement' AS placement
  FROM instances i JOIN releases r ON r.service_id = i.service_id AND r.version = i.release
  WHERE i.stop_requested_at IS NULL OR i.id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))
  ORDER BY i.id`;

const VOLUMES = `SELECT id, service_id, host_id FROM volumes WHERE status = 'active' ORDER BY id`;

interface InstanceQueryRow {
  id: string;
  service_id: string;
  host_id: string;
  release: number;
  port: number | null;
  replica: number;
  placed_at: Date;
  stop_requested: boolean;
  resources: Resources;
  ports: number[] | null;
  placement: PlacementSpec | null;
}

export async function readFleetRows(db: SqlExecutor, observed: ObservedState): Promise<FleetRows> {
  const [hosts, volumes] = await Promise.all([
    db.query<Omit<FleetHostRow, 'enrolledAt'> & { enrolled_at: Date }>(HOSTS),
    db.query<{ id: string; service_id: string; host_id: string }>(VOLUMES),
  ]);
  // An instance asked to stop keeps its memory and ports until its agent has stopped it; the
  // instances table keeps every stopped placement forever, so only those still running are read.
  const running = hosts.flatMap((h) => (observed.host(h.id)?.instances ?? []).filter(occupiesHost).map((i) => i.id));
  const instances = await db.query<InstanceQueryRow>(INSTANCES, [JSON.stringify(running)]);
  return {
    hosts: hosts.map(({ enrolled_at, ...row }) => ({ ...row, enrolledAt: enrolled_at })),
    instances: instances.map((row) => ({
      id: row.id,
      service: row.service_id,
      host: row.host_id,
      release: row.release,
      port: row.port,
      replica: row.replica,
      placedAt: row.placed_at,
      stopRequested: row.stop_requested,
      resources: { memory: row.resources.memory, cpu: row.resources.cpu },
      ports: row.ports ?? [],
      placement: row.placement ?? { labels: {} },
    })),
    volumes: volumes.map((row) => ({ id: row.id, service: row.service_id, host: row.host_id })),
  };
}
