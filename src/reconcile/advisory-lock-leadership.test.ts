// The advisory-lock lease over a fake driver: which SQL it holds a transaction open with, and
// that a failing liveness check ends the lease as lost while a release does not.
import { expect, test } from 'vitest';
import type { SqlDriver, SqlExecutor } from '../store/sql-driver.js';
import { advisoryLockLeadership } from './advisory-lock-leadership.js';

function fakeDriver(o: { locked: boolean; failCheckAfter?: number }): SqlDriver & { statements: string[]; open: number } {
  let checks = 0;
  const driver = {
    kind: 'postgres' as const,
    statements: [] as string[],
    open: 0,
    query: () => Promise.resolve([]),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      driver.open++;
      try {
        return await fn({
          query: async <R extends object>(sql: string): Promise<R[]> => {
            driver.statements.push(sql);
            if (sql.includes('pg_try_advisory_xact_lock')) return [{ locked: o.locked } as R];
            if (o.failCheckAfter !== undefined && ++checks > o.failCheckAfter) throw new Error('connection terminated');
            return [];
          },
        });
      } finally {
        driver.open--;
      }
    },
    close: () => Promise.resolve(),
  };
  return driver;
}

test('a lock held by another process gives no lease and leaves no transaction open', async () => {
  const driver = fakeDriver({ locked: false });
  expect(await advisoryLockLeadership(driver).acquire()).toBeUndefined();
  expect(driver.open).toBe(0);
});

test('a lease holds its transaction, checks it, and ends it on release without calling it lost', async () => {
  const driver = fakeDriver({ locked: true });
  const lease = await advisoryLockLeadership(driver, { checkIntervalMs: 5 }).acquire();
  expect(lease).toBeDefined();
  await new Promise((r) => setTimeout(r, 30));
  expect(driver.open).toBe(1);
  expect(driver.statements.filter((s) => s === 'SELECT 1').length).toBeGreaterThan(1);
  await lease?.release();
  expect(driver.open).toBe(0);
  expect(lease?.lost.aborted).toBe(false);
});

test('a failed check ends the lease as lost', async () => {
  const driver = fakeDriver({ locked: true, failCheckAfter: 2 });
  const lease = await advisoryLockLeadership(driver, { checkIntervalMs: 5 }).acquire();
  await new Promise<void>((resolve) => lease?.lost.addEventListener('abort', () => resolve(), { once: true }));
  expect(lease?.lost.aborted).toBe(true);
  expect(driver.open).toBe(0);
  await lease?.release();
});
