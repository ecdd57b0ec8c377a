// Where the roles find their database: a Postgres server when given a URL, else the embedded
// PGlite in a data directory. A database that cannot be reached, or is not there, is one line
// naming the flag, what failed and what to check, never a driver's stack trace.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, UnavailableError, ValidationError } from '../core/errors.js';
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
  /** open only a database berth made before: an operator tool repairs one, it never creates one */
  readonly existing?: boolean;
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** What failed when connecting to `url`, and what to check, in one line. */
export function connectionProblem(url: string, error: unknown): string {
  let host = 'the host';
  let where = 'the server';
  let user = 'the user';
  let database = 'the database';
  try {
    const parsed = new URL(url);
    host = parsed.hostname || 'localhost';
    where = `${host}:${parsed.port || 5432}`;
    user = parsed.username === '' ? user : `"${decodeURIComponent(parsed.username)}"`;
    database = parsed.pathname.length > 1 ? `"${decodeURIComponent(parsed.pathname.slice(1))}"` : database;
  } catch {
    // an unparsable URL still gets the generic wording below
  }
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${where}; check that Postgres is running there and listens on that port`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${host} not found; check the host name in the URL`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached (${String(code)}); check the host, the port and any firewall between`;
    case 'ECONNRESET':
      return `${where} closed the connection; check that it is a Postgres server and whether it wants SSL (?sslmode=require)`;
    case '28P01':
    case '28000':
      return `${where} refused user ${user} (${message}); check the user and password in the URL`;
    case '3D000':
      return `database ${database} does not exist on ${where}; create it (createdb) or fix its name in the URL`;
    case '57P03':
      return `${where} is starting up or shutting down; try again in a moment`;
    default:
      return `cannot connect to ${where} (${message}); check the URL and that the server is running`;
  }
}

async function openPostgres(url: string): Promise<SqlDriver> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ValidationError(`--database: ${JSON.stringify(url)} is not a postgres:// URL; write postgres://user@host:5432/db`);
  }
  let driver: SqlDriver | undefined;
  try {
    driver = await openPostgresDriver(url);
    // the pool connects lazily: connect once here, so a wrong URL fails now, in one line
    await driver.query('SELECT 1');
    return driver;
  } catch (error) {
    await driver?.close().catch(() => {});
    throw new UnavailableError(`--database ${redactUrl(url)}: ${connectionProblem(url, error)}`);
  }
}

/** Whether `path` is a directory, another file, or absent. */
async function entryAt(path: string): Promise<'directory' | 'file' | undefined> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Refuses a data directory that holds no embedded database, before PGlite would make one there. */
async function requireDataDir(dir: string): Promise<void> {
  const fix = `pass --data <dir> of an existing berth database (the server's data directory + /db, default ${DEFAULT_DATA_DIR}), or --database postgres://…`;
  const entry = await entryAt(dir);
  if (entry === undefined) throw new NotFoundError(`--data ${dir}: no such directory; ${fix}`);
  if (entry === 'file') throw new ValidationError(`--data ${dir}: is a file, not a directory; ${fix}`);
  if ((await entryAt(join(dir, 'PG_VERSION'))) === 'file') return;
  if ((await entryAt(join(dir, 'db', 'PG_VERSION'))) === 'file') {
    throw new NotFoundError(`--data ${dir}: holds no database, but its db directory does; pass --data ${join(dir, 'db')}`);
  }
  throw new NotFoundError(`--data ${dir}: holds no berth database; ${fix}`);
}

/** Refuses a database without berth's schema (an empty one, or another application's). */
async function requireBerthSchema(driver: SqlDriver, location: StoreLocation): Promise<void> {
  const [row] = await driver.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  if (row?.present === true) return;
  await driver.close();
  const where = location.database === undefined ? `--data ${location.data ?? DEFAULT_DATA_DIR}` : `--database ${redactUrl(location.database)}`;
  throw new NotFoundError(`${where}: holds no berth database (no schema_migrations table); point it at the database the control plane uses`);
}

export async function openDriver(location: StoreLocation): Promise<SqlDriver> {
  if (location.database !== undefined) return openPostgres(location.database);
  const dir = location.data ?? DEFAULT_DATA_DIR;
  if (location.existing === true) await requireDataDir(dir);
  return openPgliteDriver(dir);
}

export async function openEventStore(location: StoreLocation): Promise<EventStore> {
  const driver = await openDriver(location);
  if (location.existing === true) await requireBerthSchema(driver, location);
  return EventStore.open(driver);
}
