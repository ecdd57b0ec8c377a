// Statements a transaction sent without awaiting: tracked so the driver commits only after them
// and fails the transaction when one of them failed.
import type { Row, SqlExecutor } from './sql-driver.js';

export class InFlight {
  private readonly pending: Promise<unknown>[] = [];

  /** An executor whose every query is tracked here. */
  track(run: (sql: string, params: unknown[]) => Promise<Row[]>): SqlExecutor {
    return {
      query: <R extends object = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> => {
        const result = run(sql, [...params]);
        // Awaited in settle(); this keeps an un-awaited failure from being reported as unhandled.
        result.catch(() => {});
        this.pending.push(result);
        return result as Promise<R[]>;
      },
    };
  }

  /** Resolves when every tracked statement succeeded; rejects with the first failure. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }
}
