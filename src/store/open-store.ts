// Where the roles find their database: a Postgres server when given a URL, else the embedded
// PGlite in a data directory.
import { ValidationError } from '../core/errors.js';
import { EventStore } from './event-store.js';
import { openPgliteDriver } from './pglite-driver.js';
import { openPostgresDriver } from './postgres-driver.js';
import type { SqlDriver } from './sql-driver.js';

export const DEFAULT_DATA_DIR = './.berth/db';

export interface StoreLocation {
  /** `postgres://…`; wins over `data` */
  readonly database?: string;
  /** PGlite data directory */
  readonly data?: string;
}

export async function openDriver(location: StoreLocation): Promise<SqlDriver> {
  if (location.database !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(location.database)) {
      throw new ValidationError(
        `--database: ${JSON.stringify(location.database)} is not a postgres:// URL; write postgres://user@host:5432/db`,
      );
    }
    return openPostgresDriver(location.database);
  }
  return openPgliteDriver(location.data ?? DEFAULT_DATA_DIR);
}

export const openEventStore = async (location: StoreLocation): Promise<EventStore> => EventStore.open(await openDriver(location));
