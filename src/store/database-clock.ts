// Times on the database's clock, for observed state that several control-plane replicas write and
// read (edge load reports, heartbeats): a row is stamped with the database's now(), and its age
// comes back from the database and is put on the reader's own clock, so skew between replicas
// neither ages nor revives what they share. Tests pass a clock of their own, which then stands in
// for both.

/** `$1` in a statement: the time to stamp and read with (DatabaseClock.stamp()), or the database's now(). */
export const DB_NOW = 'coalesce($1::timestamptz, now())';

export class DatabaseClock {
  constructor(private readonly clock?: () => Date) {}

  /** The `$1` of a statement that uses DB_NOW: null for the database's now(). */
  stamp(): string | null {
    return this.clock?.().toISOString() ?? null;
  }

  /** This replica's now, which ages from the database are taken from. */
  now(): Date {
    return this.clock?.() ?? new Date();
  }
}
