// Runs the contract on a real server when BERTH_TEST_DATABASE_URL is set (CI sets it), in a
// schema of its own so parallel test files and earlier runs do not meet.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, test } from 'vitest';
import { eventStoreContract } from './event-store.case.js';
import { openPostgresDriver } from './postgres-driver.js';

const url = process.env.BERTH_TEST_DATABASE_URL;
const schema = `berth_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

if (url) {
  eventStoreContract('Postgres', { open: () => openPostgresDriver(url, { schema }), concurrentTransactions: true });
  afterAll(async () => {
    const driver = await openPostgresDriver(url);
    await driver.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await driver.close();
  });
} else {
  describe('event store on Postgres', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
