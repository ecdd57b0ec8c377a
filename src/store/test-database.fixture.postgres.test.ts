// The per-file test database: a run killed midway leaves its databases on the server, and the next
// run's first file drops those made more than an hour ago, never a live run's.
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { madeAt, testDatabaseUrl, testServerUrl } from './test-database.fixture.js';

const hex8 = (): string => Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
const nameAt = (ms: number): string => `berth_test_${Math.floor(ms / 1000).toString(36)}_${hex8()}`;

test('a test database name tells when it was made', () => {
  const at = Date.UTC(2026, 10, 27, 1, 2, 3);
  expect(madeAt(nameAt(at))).toBe(at);
  expect(madeAt('berth_test_0123456789ab')).toBeUndefined(); // the names before, undated: left alone
  expect(madeAt('test')).toBeUndefined();
});

if (testServerUrl) {
  describe('on the server', () => {
    const server = new pg.Pool({ connectionString: testServerUrl, max: 1 });
    const left = nameAt(Date.now() - 2 * 60 * 60 * 1000);
    const live = nameAt(Date.now() - 5 * 60 * 1000);
    afterAll(async () => {
      for (const name of [left, live]) await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.end();
    });
    const exists = async (name: string): Promise<boolean> =>
      (await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;

    test("making this file's database drops one a killed run left two hours ago, not one of five minutes ago", async () => {
      await server.query(`CREATE DATABASE ${left}`);
      await server.query(`CREATE DATABASE ${live}`);
      const url = await testDatabaseUrl();
      expect(await exists(new URL(url).pathname.slice(1))).toBe(true);
      expect(await exists(left)).toBe(false);
      expect(await exists(live)).toBe(true);
    });
  });
}
