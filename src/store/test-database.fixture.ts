// A database of its own, on the Postgres server BERTH_TEST_DATABASE_URL names, for each test file
// that asks for one: made at the first ask, dropped after the file. A schema per test keeps the
// tables apart but not the log's readers: they wait for write transactions still open anywhere in
// their database (settled-horizon.ts), and test files running at once hold some for seconds on
// purpose (observed-fleet.postgres.test.ts), which a test with a deadline cannot allow for.
//
// The drop is an afterAll hook registered when this module is loaded, that is while the file's
// tests are collected: each test file loads its own copy of the module (vitest isolates files,
// the default, which this relies on), so each drops its own database. A run killed midway
// leaves its databases behind (berth_test_*): drop them by hand.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

/** The server's URL, as CI sets it; undefined where tests run on PGlite only. */
export const testServerUrl = process.env.BERTH_TEST_DATABASE_URL;

const name = `berth_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
let created: Promise<string> | undefined;

/** Runs `sql` on the database the server URL names. */
async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testServerUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function create(): Promise<string> {
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
