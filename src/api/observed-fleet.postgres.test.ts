// A heartbeat whose transaction commits long after it was stamped, on real Postgres
// (BERTH_TEST_DATABASE_URL): another replica's reads while it is open see nothing, and the first
// read after the commit takes it, however long it was open (src/api/observed-fleet.ts). Reading by
// `heartbeat_at > previous read's now() - 2 s`, as replicas did before migration 6, missed it.
// Skipped without the variable.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { migrate } from '../store/migrations.js';
import { openPostgresDriver } from '../store/postgres-driver.js';
import type { Row, SqlDriver, SqlExecutor } from '../store/sql-driver.js';
import { until } from './control-plane.fixture.js';
import { ObservedFleet, type Heartbeat, type ObservedReport } from './observed-fleet.js';
import { testDatabaseUrl, testServerUrl } from '../store/test-database.fixture.js';


/** How far back the reads before migration 6 looked again: a transaction open longer was missed. */
const OLD_OVERLAP_MS = 2_000;

/** `driver`, whose transactions hold their commit until `commit()`; `written` settles when one has done its statements. */
function holdingCommits(driver: SqlDriver): { driver: SqlDriver; written: Promise<void>; commit: () => void } {
  let commit!: () => void;
  const committing = new Promise<void>((resolve) => (commit = resolve));
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => (wrote = resolve));
  return {
    driver: {
      kind: driver.kind,
      query: <R extends object = Row>(sql: string, params?: readonly unknown[]) => driver.query<R>(sql, params),
      transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
        driver.transaction(async (tx) => {
          const value = await fn(tx);
          wrote();
          await committing;
          return value;
        }),
      close: () => driver.close(),
    },
    written,
    commit,
  };
}

const heartbeat: Heartbeat = {
  usage: { memory: { total: 2 ** 30, used: 2 ** 29 }, cpu: { cores: 2, millicores: 250 } },
  instances: [{ id: 'web-1', state: 'ready', port: 40_001, restarts: 0, since: Date.now(), adopted: false }],
  agent: { version: 'test', memoryEnforcement: 'none' },
};

if (testServerUrl) {
  describe('observed hosts read by transaction, on Postgres', () => {
    test('a heartbeat whose transaction stays open past the old 2 s overlap is read once it commits', async () => {
      const schema = `berth_test_observed_${randomBytes(6).toString('hex')}`;
      const writer = await openPostgresDriver(await testDatabaseUrl(), { schema });
      const held = holdingCommits(writer);
      let reader: SqlDriver | undefined;
      try {
        await migrate(writer);
        // after the writer: both create the schema if missing, which two at once can collide on
        reader = await openPostgresDriver(await testDatabaseUrl(), { schema });
        // two replicas on the database's clock, each with its own connections
        const [a, b] = [new ObservedFleet(held.driver), new ObservedFleet(reader)];
        const heard: ObservedReport[] = [];
        b.watch((r) => heard.push(r));
        expect(await b.readTables()).toBe(0);

        const recording = a.record('h1', heartbeat);
        await held.written;
        const writtenAt = Date.now();
        expect(await b.readTables()).toBe(0);
        await sleep(Math.max(0, writtenAt + OLD_OVERLAP_MS + 100 - Date.now()));
        const [before] = await reader.query<{ at: Date }>('SELECT now() AS at');
        expect(await b.readTables()).toBe(0);
        expect(b.host('h1')).toBeUndefined();

        held.commit();
        await recording;
        // stamped more than 2 s before the previous read: that read's now() - 2 s would not take it
        const [stale] = await reader.query<{ missed: boolean }>(`SELECT heartbeat_at < $1::timestamptz - interval '${OLD_OVERLAP_MS} milliseconds' AS missed FROM observed_hosts`, [
          before!.at.toISOString(),
        ]);
        expect(stale?.missed).toBe(true);
        expect(await b.readTables()).toBe(1);
        expect(b.host('h1')).toMatchObject({ usage: heartbeat.usage, agent: heartbeat.agent, instances: heartbeat.instances });

        // Nothing written, nothing read: at once on an idle cluster; while any transaction older
        // than the commit runs on the cluster (other tests), the row is read again, waking no one.
        await until('a read that takes nothing', async () => ((await b.readTables()) === 0 ? true : undefined), 5_000);
        expect(heard.map((r) => r.hostId)).toEqual(['h1']);
      } finally {
        // a failed assertion must not leave the transaction open: closing the pool would wait on it
        held.commit();
        await reader?.close();
        await writer.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await writer.close();
      }
    });
  });
} else {
  describe('observed hosts read by transaction, on Postgres', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
