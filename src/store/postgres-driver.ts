// The server driver: a pool of connections to a `postgres://` URL, for control planes that
// share one database. Transactions run concurrently, one connection each, pipelined: statements
// that do not wait on each other's answers share a round trip.
import pg from 'pg';
import { InFlight } from './in-flight.js';
import type { Row, SqlDriver, SqlExecutor } from './sql-driver.js';

export interface PostgresOptions {
  /** Tables live in this schema (created if missing); tests and benchmarks use a fresh one each. */
  readonly schema?: string;
  readonly maxConnections?: number;
}

const INT8 = 20;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

// The store sends a handful of fixed statements thousands of times a second: naming them makes
// each connection parse and plan them once. Capped, in case a caller builds SQL text on the fly.
const statementNames = new Map<string, string>();
const MAX_NAMED = 256;

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED) {
    name = `berth_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name;
}

async function run<R extends object>(client: pg.ClientBase | pg.Pool, sql: string, params: readonly unknown[]): Promise<R[]> {
  // Statements without parameters (DDL, BEGIN, COMMIT) stay unnamed: some cannot be prepared.
  const name = params.length > 0 ? statementName(sql) : undefined;
  return (await client.query<R>({ text: sql, values: [...params], ...(name === undefined ? {} : { name }) })).rows;
}

const executor = (client: pg.ClientBase | pg.Pool): SqlExecutor => ({
  query: <R extends object = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> => run<R>(client, sql, params),
});

export async function openPostgresDriver(url: string, options: PostgresOptions = {}): Promise<SqlDriver> {
  const config: pg.PoolConfig = {
    connectionString: url,
    max: options.maxConnections ?? 10,
    types: typeParsers,
    // Named statements are parsed once per connection but planned for each call: a plan cached
    // while a table was nearly empty (a seq scan) would otherwise stay as the table grows.
    options: [
      '-c plan_cache_mode=force_custom_plan',
      ...(options.schema === undefined ? [] : [`-c search_path=${quoteIdent(options.schema)}`]),
    ].join(' '),
  };
  const pool = new pg.Pool({ ...config, pipeline: true });
  // An idle connection that dies (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  if (options.schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`);

  return {
    kind: 'postgres',
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      // While checked out, a client's connection errors reach only its own listeners (the pool's
      // do not); without one, a Postgres restart mid-transaction would crash the process. The
      // failed query rejects on its own and the client is discarded below.
      const onConnectionError = (error: Error): void => {
        broken = error;
      };
      client.on('error', onConnectionError);
      try {
        const inFlight = new InFlight();
        const tx = inFlight.track((sql, params) => run<Row>(client, sql, params));
        // Pipelined: BEGIN leaves with the first statements, COMMIT with the last ones.
        void tx.query('BEGIN');
        const value = await fn(tx);
        void tx.query('COMMIT');
        await inFlight.settle();
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        // A connection that could not roll back is discarded rather than handed to the next caller.
        client.off('error', onConnectionError);
        client.release(broken);
      }
    },
    async listen(channel, onNotify) {
      const client = new pg.Client(config);
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      return () => client.end();
    },
    close: () => pool.end(),
  } satisfies SqlDriver;
}
