// Leader election on a real Postgres (BERTH_TEST_DATABASE_URL): two control planes share one
// database (one schema of their own), only the leader's loops act, and when it stops the other
// takes over. Skipped without the variable, as the store's Postgres suite is.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { hostDecider } from '../domain/host.js';
import { serviceDecider } from '../domain/service.js';
import { hostStream, serviceStream } from '../domain/streams.js';
import { serviceSpecSchema } from '../spec/service.js';
import { handleCommand } from '../store/command-handler.js';
import { EventStore } from '../store/event-store.js';
import { openPostgresDriver } from '../store/postgres-driver.js';
import { advisoryLockLeadership } from './advisory-lock-leadership.js';
import { startControlLoops, type ControlLoops } from './control-loops.js';
import { FakeObservedState } from './test-platform.fixture.js';
import { testDatabaseUrl, testServerUrl } from '../store/test-database.fixture.js';

const schema = `berth_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

if (testServerUrl) {
  describe('leader election over an advisory lock', () => {
    test('one lease at a time; released, it passes to the next', async () => {
      const a = await openPostgresDriver(await testDatabaseUrl(), { schema });
      const b = await openPostgresDriver(await testDatabaseUrl(), { schema });
      try {
        const first = await advisoryLockLeadership(a, { name: 'lease-test' }).acquire();
        expect(first).toBeDefined();
        expect(await advisoryLockLeadership(b, { name: 'lease-test' }).acquire()).toBeUndefined();
        // another name, or another schema, is another election
        const other = await advisoryLockLeadership(b, { name: 'other' }).acquire();
        expect(other).toBeDefined();
        await other?.release();
        await first?.release();
        const second = await advisoryLockLeadership(b, { name: 'lease-test' }).acquire();
        expect(second).toBeDefined();
        expect(second?.lost.aborted).toBe(false);
        await second?.release();
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('a lease whose connection dies is lost', async () => {
      const a = await openPostgresDriver(await testDatabaseUrl(), { schema });
      const admin = await openPostgresDriver(await testDatabaseUrl());
      try {
        const lease = await advisoryLockLeadership(a, { name: 'dying', checkIntervalMs: 50 }).acquire();
        expect(lease).toBeDefined();
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND pid IN (SELECT pid FROM pg_stat_activity WHERE query = 'SELECT 1' OR query LIKE '%pg_try_advisory_xact_lock%')`,
        );
        await until('the lease lost', () => lease?.lost.aborted === true, 5_000);
        await lease?.release();
        const again = await advisoryLockLeadership(a, { name: 'dying' }).acquire();
        expect(again).toBeDefined();
        await again?.release();
      } finally {
        await a.close();
        await admin.close();
      }
    });

    test('two control planes on one database: only the leader acts, and the other takes over', async () => {
      const stores = [await EventStore.open(await openPostgresDriver(await testDatabaseUrl(), { schema })), await EventStore.open(await openPostgresDriver(await testDatabaseUrl(), { schema }))] as const;
      const [storeA, storeB] = stores;
      const observed = new FakeObservedState();
      const stopA = new AbortController();
      const stopB = new AbortController();
      const common = { observed, resyncIntervalMs: 60_000, leaderRetryMs: 100, heartbeatTimeoutMs: 600_000 };
      const loops: [ControlLoops, ControlLoops] = [
        startControlLoops({ ...common, store: storeA, signal: stopA.signal, actor: 'reconciler@a' }),
        startControlLoops({ ...common, store: storeB, signal: stopB.signal, actor: 'reconciler@b' }),
      ];
      try {
        await until('a leader', () => loops.some((l) => l.isLeader()));
        await sleep(300);
        expect(loops.filter((l) => l.isLeader())).toHaveLength(1);
        const leader = loops[0].isLeader() ? 'a' : 'b';

        for (const h of ['h1', 'h2']) {
          await handleCommand(storeA, hostStream(h), hostDecider, {
            type: 'EnrollHost', name: h, address: h, region: 'default', capacity: { memory: 2 ** 32, cpu: 2000 }, labels: {},
          });
        }
        const spec = serviceSpecSchema.parse({ run: 'node server.js', replicas: 2 });
        await handleCommand(storeA, serviceStream('web'), serviceDecider, { type: 'CreateService', name: 'web', tenant: 'default', spec });
        await handleCommand(storeA, serviceStream('web'), serviceDecider, { type: 'CreateRelease', digest: 'sha256:x', spec, secretNames: [] });
        await handleCommand(storeA, serviceStream('web'), serviceDecider, { type: 'StartRollout', release: 1 });

        const placements = async (): Promise<{ actor: string }[]> =>
          storeA.driver.query<{ actor: string }>(`SELECT metadata->>'actor' AS actor FROM events WHERE type = 'InstancePlaced' ORDER BY global_position`);
        await until('two placements', async () => (await placements()).length === 2);
        await sleep(300);
        expect((await placements()).map((p) => p.actor)).toEqual([`reconciler@${leader}`, `reconciler@${leader}`]);
        const follower = leader === 'a' ? loops[1] : loops[0];
        expect(follower.status.services()).toEqual([]);

        // the leader stops: the follower takes over and acts on the next change
        (leader === 'a' ? stopA : stopB).abort();
        await (leader === 'a' ? loops[0] : loops[1]).stopped;
        await until('the other one leading', () => follower.isLeader());
        await handleCommand(storeA, serviceStream('web'), serviceDecider, { type: 'SetReplicas', replicas: 3 });
        await until('a third placement', async () => (await placements()).length === 3);
        const next = leader === 'a' ? 'b' : 'a';
        expect((await placements()).at(-1)?.actor).toBe(`reconciler@${next}`);
      } finally {
        stopA.abort();
        stopB.abort();
        await Promise.all(loops.map((l) => l.stopped));
        await storeA.close();
        await storeB.close();
      }
    });
  });
} else {
  describe('leader election on Postgres', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
