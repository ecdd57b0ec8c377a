// The embedded database: Postgres compiled to WebAssembly, in this process. One connection, so
// transactions run one after another; data lives in a directory, or in memory when none is given.
// No LISTEN: only this process can open the directory, so no one else appends.
import { mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import { InFlight } from './in-flight.js';
import type { Row, SqlDriver, SqlExecutor } from './sql-driver.js';

const executor = (db: Pick<PGlite, 'query'>): SqlExecutor => ({
  async query<R extends object = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await db.query<R>(sql, [...params])).rows;
  },
});

/**
 * postgresql.conf of the embedded database. PGlite replaces the file with these lines on every
 * start, so they carry what initdb would have set that differs from Postgres's defaults (UTC, the
 * C locale, english text search), and one change: Postgres's default 128 MB of shared buffers
 * live inside the WebAssembly memory, in this process, and a one-box control plane (berth up,
 * restarted on its data) held ~380 MiB RSS with them; with 16 MB, ~240. Its data is a few MB of
 * events and projections, and the files behind it sit in the kernel's page cache anyway, so the
 * smaller pool costs nothing measurable. Only settings every Postgres version PGlite is built on
 * knows: an unknown one stops the database from starting (a test starts it and reads them back).
 */
const POSTGRES_CONF = [
  'shared_buffers = 16MB',
  'log_timezone = UTC',
  "datestyle = 'iso, mdy'",
  'timezone = UTC',
  'lc_messages = C',
  'lc_monetary = C',
  'lc_numeric = C',
  'lc_time = C',
  "default_text_search_config = 'pg_catalog.english'",
];

export async function openPgliteDriver(dataDir?: string): Promise<SqlDriver> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { parsers: { [types.INT8]: (value: string) => Number(value) }, postgresqlconf: POSTGRES_CONF });
  return {
    kind: 'pglite',
    ...executor(db),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        const inFlight = new InFlight();
        const value = await fn(inFlight.track(async (sql, params) => (await tx.query<Row>(sql, params)).rows));
        await inFlight.settle();
        return value;
      }),
    close: () => db.close(),
  } satisfies SqlDriver;
}
