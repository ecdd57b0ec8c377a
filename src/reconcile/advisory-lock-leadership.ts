// Leader election over a Postgres advisory lock. The SqlDriver has no session of its own to
// lend, so the lease is a transaction held open on one pooled connection: the lock is
// transaction-scoped (`pg_try_advisory_xact_lock`), which Postgres releases when the
// transaction ends or its connection dies, exactly as a session lock on a dedicated connection
// would be. The transaction writes nothing and takes no transaction id, so it holds back
// neither vacuum nor the event store's global readers (they stop below running *writers*).
// A `SELECT 1` every few seconds notices a broken connection and ends the lease.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDriver } from '../store/sql-driver.js';
import type { Leadership, Lease } from './leadership.js';

export interface AdvisoryLockOptions {
  /** Control planes compete per name and per schema: tests in schemas of their own never meet. */
  readonly name?: string;
  /** ms between checks that the connection holding the lock is alive. */
  readonly checkIntervalMs?: number;
}

// A 64-bit key from the name and the schema, so any name works without a registry of numbers.
const TRY_LOCK = `SELECT pg_try_advisory_xact_lock(('x' || substr(md5($1 || '/' || current_schema()), 1, 16))::bit(64)::bigint) AS locked`;

export function advisoryLockLeadership(driver: SqlDriver, options: AdvisoryLockOptions = {}): Leadership {
  const name = options.name ?? 'berth-control-loops';
  const interval = options.checkIntervalMs ?? 5_000;
  return {
    acquire: () =>
      new Promise<Lease | undefined>((resolve, reject) => {
        const lost = new AbortController();
        const released = new AbortController();
        let leased = false;
        const holding = driver.transaction(async (tx) => {
          const [row] = await tx.query<{ locked: boolean }>(TRY_LOCK, [name]);
          if (row?.locked !== true) return;
          leased = true;
          resolve({
            lost: lost.signal,
            release: async () => {
              released.abort();
              await holding.catch(() => undefined);
            },
          });
          while (!released.signal.aborted) {
            await sleep(interval, undefined, { signal: released.signal }).catch(() => undefined);
            if (!released.signal.aborted) await tx.query('SELECT 1');
          }
        });
        holding.then(
          () => {
            if (!leased) resolve(undefined);
            else if (!released.signal.aborted) lost.abort(new Error('the leader lock ended'));
          },
          (error: unknown) => {
            if (!leased) reject(error instanceof Error ? error : new Error(String(error)));
            else lost.abort(error);
          },
        );
      }),
  };
}
