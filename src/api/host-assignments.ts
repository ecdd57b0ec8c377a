// A host's complete assignment set, read from the projections: its instances not asked to stop,
// each with its release's command, env, secret names, resources, health and stop settings.
import type { SqlExecutor } from '../store/sql-driver.js';
import type { ReleaseRow } from '../store/projections/releases.js';
import type { Assignment } from './protocol/agent-protocol.js';

interface AssignmentRow {
  id: string;
  service_id: string;
  service_name: string;
  tenant: string;
  release: number;
  replica: number;
  port: number | null;
  digest: string;
  spec: ReleaseRow['spec'];
  env: ReleaseRow['env'];
  secret_names: ReleaseRow['secret_names'];
}

const SELECT = `SELECT i.id, i.service_id, s.name AS service_name, s.tenant, i.release, i.replica, i.port,
    r.digest, r.spec, r.env, r.secret_names
  FROM instances i
  JOIN releases r ON r.service_id = i.service_id AND r.version = i.release
  JOIN services s ON s.id = i.service_id
  WHERE i.host_id = $1 AND i.stop_requested_at IS NULL
  ORDER BY i.id`;

export async function hostAssignments(db: SqlExecutor, hostId: string): Promise<Assignment[]> {
  const rows = await db.query<AssignmentRow>(SELECT, [hostId]);
  return rows.map((row) => ({
    instance: row.id,
    service: row.service_id,
    serviceName: row.service_name,
    tenant: row.tenant,
    release: row.release,
    replica: row.replica,
    // An infra service binds its fixed port; the placement may also have fixed one.
    port: row.port ?? row.spec.ports[0] ?? null,
    digest: row.digest,
    command: row.spec.run,
    env: { ...row.spec.env, ...row.env },
    secrets: [...row.secret_names],
    resources: { memory: row.spec.resources.memory, cpu: row.spec.resources.cpu },
    health: row.spec.health,
    stop: row.spec.stop,
  }));
}

/** The tenant, service name and secret names of an instance placed on `hostId`, if it is. */
export async function instanceOnHost(
  db: SqlExecutor,
  hostId: string,
  instanceId: string,
): Promise<{ tenant: string; serviceName: string; secrets: string[] } | undefined> {
  const [row] = await db.query<{ tenant: string; service_name: string; secret_names: string[] }>(
    `SELECT s.tenant, s.name AS service_name, r.secret_names FROM instances i
       JOIN releases r ON r.service_id = i.service_id AND r.version = i.release
       JOIN services s ON s.id = i.service_id
     WHERE i.id = $1 AND i.host_id = $2 AND i.stop_requested_at IS NULL`,
    [instanceId, hostId],
  );
  return row ? { tenant: row.tenant, serviceName: row.service_name, secrets: row.secret_names } : undefined;
}
