// Runs the contract on a real server when BERTH_TEST_DATABASE_URL is set (CI sets it), in a
// database of its own, made for this run and dropped after it. A schema would keep the tables
// apart, but not the log's readers: they wait for write transactions still open anywhere in their
// database (settled-horizon.ts), and other test files running at once hold some for seconds on
// purpose, which the contract's timing (a subscriber woken only by NOTIFY) does not allow for.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { serviceStream } from '../domain/streams.js';
import { eventStoreContract } from './event-store.case.js';
import { EventStore } from './event-store.js';
import { openPostgresDriver } from './postgres-driver.js';

const serverUrl = process.env.BERTH_TEST_DATABASE_URL;
const database = `berth_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Runs `sql` on the server's database named in BERTH_TEST_DATABASE_URL. */
async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

if (serverUrl) {
  const own = new URL(serverUrl);
  own.pathname = `/${database}`;
  const url = own.href;
  let created: Promise<void> | undefined;
  const open = async () => {
    await (created ??= onServer(`CREATE DATABASE ${database}`));
    return openPostgresDriver(url);
  };
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
        const elsewhere = await openTransaction(serverUrl);
        try {
          expect(await appended(store)).toBe(true);
        } finally {
          await elsewhere.end();
        }
        const here = await openTransaction(url);
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

  afterAll(async () => {
    // WITH (FORCE): a pooled connection of a store closed a moment ago may not have ended yet
    if (created !== undefined) await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });
} else {
  describe('event store on Postgres', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
