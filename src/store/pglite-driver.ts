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

export async function openPgliteDriver(dataDir?: string): Promise<SqlDriver> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { parsers: { [types.INT8]: (value: string) => Number(value) } });
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
