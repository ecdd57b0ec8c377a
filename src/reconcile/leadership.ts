// Who runs the control loops (DESIGN §1): one leader among the control planes sharing a
// database. A lease is held until released, or lost when the database connection that holds it
// breaks; the loops stop at once when it is lost.
import type { SqlDriver } from '../store/sql-driver.js';
import { advisoryLockLeadership } from './advisory-lock-leadership.js';

export interface Lease {
  /** Aborts when leadership is lost without being released. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface Leadership {
  /** One attempt: a lease when this process now leads, undefined when another one does. */
  acquire(): Promise<Lease | undefined>;
}

/** PGlite is one process's own database: that process always leads. */
export const soleLeadership: Leadership = {
  acquire: () => Promise.resolve({ lost: new AbortController().signal, release: () => Promise.resolve() }),
};

export const defaultLeadership = (driver: SqlDriver): Leadership =>
  driver.kind === 'pglite' ? soleLeadership : advisoryLockLeadership(driver);
