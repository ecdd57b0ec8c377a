// A service or host named on a route (`/v1/services/web/…`, `/v1/hosts/box-1/…`): by id, or by
// name when that names exactly one. A miss is a 404 that says where the names are listed.
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { HostRow } from '../store/projections/hosts.js';
import type { ServiceRow } from '../store/projections/services.js';
import type { SqlExecutor } from '../store/sql-driver.js';

export async function findService(db: SqlExecutor, ref: string): Promise<ServiceRow> {
  const rows = await db.query<ServiceRow>(
    `SELECT * FROM services WHERE status = 'active' AND (id = $1 OR name = $1) ORDER BY (id = $1) DESC, id`,
    [ref],
  );
  const [first, second] = rows;
  if (first === undefined) throw new NotFoundError(`service ${ref} does not exist; berth status lists the services`, { service: ref });
  if (second !== undefined && first.id !== ref) {
    throw new ValidationError(`service ${ref} names ${rows.length} services (${rows.map((r) => r.id).join(', ')}); name one by its id`, { service: ref });
  }
  return first;
}

export async function findHost(db: SqlExecutor, ref: string): Promise<HostRow> {
  const rows = await db.query<HostRow>(
    `SELECT * FROM hosts WHERE id = $1 OR (name = $1 AND status <> 'decommissioned') ORDER BY (id = $1) DESC, id`,
    [ref],
  );
  const [first, second] = rows;
  if (first === undefined) throw new NotFoundError(`host ${ref} is not enrolled; berth hosts lists the hosts`, { host: ref });
  if (second !== undefined && first.id !== ref) {
    throw new ValidationError(`host ${ref} names ${rows.length} hosts (${rows.map((r) => r.id).join(', ')}); name one by its id`, { host: ref });
  }
  return first;
}
