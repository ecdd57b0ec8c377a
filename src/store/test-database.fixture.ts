// A database of its own, on the Postgres server BERTH_TEST_DATABASE_URL names, for each test file
// that asks for one: made at the first ask, dropped after the file. A schema per test keeps the
// tables apart but not the log's readers: they wait for write transactions still open anywhere in
// their database (settled-horizon.ts), and test files running at once hold some for seconds on
// purpose (observed-fleet.postgres.test.ts), which a test with a deadline cannot allow for.
//
// The drop is an afterAll hook registered when this module is loaded, that is while the file's
// tests are collected: each test file loads its own copy of the module (vitest isolates files,
// the default, which this relies on), so each drops its own database. A run killed midway leaves
// its databases behind: the name carries the time it was made, and a file making its database
// drops any left more than an hour ago (no test file runs for an hour: testTimeout is 30 s).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

/** The server's URL, as CI sets it; undefined where tests run on PGlite only. */
export const testServerUrl = process.env.BERTH_TEST_DATABASE_URL;

const prefix = 'berth_test_';
const leftAfterMs = 60 * 60 * 1000;
/** `berth_test_<seconds since 1970, base 36>_<random>`: the time tells a database left by a killed run. */
const name = `${prefix}${Math.floor(Date.now() / 1000).toString(36)}_${randomUUID().replaceAll('-', '').slice(0, 8)}`;

/** When a database this fixture names was made, in ms since 1970; undefined for any other name. */
export function madeAt(database: string): number | undefined {
  const match = /^berth_test_([0-9a-z]+)_[0-9a-f]{8}$/.exec(database);
  return match === null ? undefined : Number.parseInt(match[1]!, 36) * 1000;
}
let created: Promise<string> | undefined;

/** Runs `sql` on the database the server URL names. */
async function onServer<Row extends object = object>(sql: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: testServerUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops the databases of test runs killed more than an hour ago; another file may be at it too. */
async function dropLeftBehind(now: number): Promise<void> {
  const rows = await onServer<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
  for (const { datname } of rows) {
    const at = madeAt(datname);
    if (at === undefined || now - at < leftAfterMs) continue;
    await onServer(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
}

async function create(): Promise<string> {
  await dropLeftBehind(Date.now());
  // two files creating theirs at the same moment may find the template busy: try again shortly
  for (let attempt = 1; ; attempt++) {
    try {
      await onServer(`CREATE DATABASE ${name}`);
      break;
    } catch (error) {
      if (attempt >= 20 || !/is being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
  const url = new URL(testServerUrl!);
  url.pathname = `/${name}`;
  return url.href;
}

/** The URL of this test file's own database; for tests that run only with BERTH_TEST_DATABASE_URL set. */
export function testDatabaseUrl(): Promise<string> {
  if (testServerUrl === undefined) return Promise.reject(new Error('BERTH_TEST_DATABASE_URL is not set: this test needs a Postgres server, e.g. BERTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test'));
  return (created ??= create());
}

// Outside vitest (the benches use the control-plane fixture) there is no file to drop after, and
// no suite to hang a hook on.
if (process.env.VITEST !== undefined) {
  afterAll(async () => {
    if (created === undefined || !(await created.then(() => true, () => false))) return;
    // WITH (FORCE): a pooled connection of a store closed a moment ago may not have ended yet
    await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}
