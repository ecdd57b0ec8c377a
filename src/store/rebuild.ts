// `berth admin rebuild`: empties the projection tables and replays the whole log into them, in
// one transaction, so readers see the old tables until the new ones are complete.
import { applyProjections, type Projection } from './projection.js';
import { EVENT_COLUMNS, eventFromRow, type EventRow } from './recorded-event.js';
import type { SqlDriver } from './sql-driver.js';

const CHUNK = 2_000;

export async function rebuildProjections(driver: SqlDriver, projections: readonly Projection[]): Promise<{ events: number }> {
  return driver.transaction(async (tx) => {
    // TRUNCATE takes the tables' exclusive lock: an append that writes them either finished before
    // (and its events are in the log we replay) or waits until we commit. Appends that touch no
    // projection may commit meanwhile, but they change nothing here.
    await tx.query(`TRUNCATE ${projections.map((p) => p.table).join(', ')}`);
    let after = 0;
    let count = 0;
    for (;;) {
      // Each read takes a fresh snapshot (READ COMMITTED) after the lock was granted, so position
      // order misses nothing that matters: no projection-writing append commits while we hold it.
      const rows = await tx.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
        [after, CHUNK],
      );
      if (rows.length === 0) break;
      const events = rows.map(eventFromRow);
      await applyProjections(tx, projections, events);
      after = rows.at(-1)?.global_position ?? after;
      count += rows.length;
    }
    return { events: count };
  });
}
