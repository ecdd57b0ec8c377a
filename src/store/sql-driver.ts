// The one seam between the event store and a database: PGlite embedded in the process, or a
// pool of connections to a Postgres server. Everything above it is plain parameterized SQL: a
// dozen fixed statements, mostly jsonb set operations, which a query builder (Kysely) could
// neither type nor simplify, and whose text the server driver prepares once per connection.
//
// Values come back the same from both: int8 as number (positions and counts stay far below
// 2^53), xid8 as a decimal string, timestamptz as Date, json/jsonb parsed. Pass JSON
// parameters as strings and cast them in SQL (`$1::jsonb`); both drivers then agree.

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  /**
   * One statement. Queries issued without awaiting the previous one keep their order; a driver
   * that pipelines sends them without waiting for each answer.
   */
  query<R extends object = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface SqlDriver extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction (READ COMMITTED). Statements `fn` issued and did not await
   * still belong to it: the driver commits after them (on a server, in the same round trip) and
   * rolls back if any of them fails, or if `fn` throws.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` from any process; resolves to a function
   * that stops listening. Absent where no other process can write (PGlite); the store then
   * neither listens nor notifies.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The SQLSTATE of a database error (both drivers put it on `code`). */
export const sqlState = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;

export const UNIQUE_VIOLATION = '23505';
