// Runs the contract on a real server when BERTH_TEST_DATABASE_URL is set (CI sets it), in a
// database of its own (test-database.fixture.ts): the contract's timing (a subscriber woken only
// by NOTIFY) does not allow for other files' write transactions in a shared one.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { serviceStream } from '../domain/streams.js';
import { eventStoreContract } from './event-store.case.js';
import { EventStore } from './event-store.js';
import { openPostgresDriver } from './postgres-driver.js';
import { testDatabaseUrl, testServerUrl } from './test-database.fixture.js';

if (testServerUrl) {
  const open = async () => openPostgresDriver(await testDatabaseUrl());
  eventStoreContract('Postgres', { open, concurrentTransactions: true });

  // A shared server: a write transaction that runs for minutes in another database (a batch job,
  // a migration) must not stop berth from reading its own log; one in berth's own database may
  // still commit events, so it does hold the log (the contract's "does not read past a
  // transaction still open").
  describe('the global log on a shared server', () => {
    /** A transaction with an id, left open until `end`. */
    async function openTransaction(connectionString: string): Promise<{ end(): Promise<void> }> {
      const client = new pg.Client({ connectionString });
      await client.connect();
      await client.query('BEGIN');
      await client.query('SELECT pg_current_xact_id()');
      return {
        async end() {
          await client.query('ROLLBACK');
          await client.end();
        },
      };
    }

    async function appended(store: EventStore): Promise<boolean> {
      const stream = serviceStream(`shared-${randomUUID().slice(0, 8)}`);
      const { events } = await store.append(stream, [{ type: 'ReplicasSet', data: { replicas: 1 } }], { expectedVersion: 0 });
      // from just before its transaction: the read returns it once nothing older may still commit
      const after = { txId: events[0]!.txId - 1, globalPosition: 0 };
      for (const deadline = Date.now() + 2_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        if ((await store.readAll({ after, limit: 10_000 })).some((e) => e.streamId === stream)) return true;
      }
      return false;
    }

    test('a transaction open in another database does not hold the log back; one in this database does', async () => {
      const store = await EventStore.open(await open());
      try {
        // the database BERTH_TEST_DATABASE_URL names is another one on the same server
        const elsewhere = await openTransaction(testServerUrl!);
        try {
          expect(await appended(store)).toBe(true);
        } finally {
          await elsewhere.end();
        }
        const here = await openTransaction(await testDatabaseUrl());
        try {
          expect(await appended(store)).toBe(false);
        } finally {
          await here.end();
        }
      } finally {
        await store.close();
      }
    });
  });

} else {
  describe('event store on Postgres', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
