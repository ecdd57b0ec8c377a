// Where the readers of commit-ordered rows (the event log, the observed fleet's changed hosts)
// stop: below the oldest transaction still open that could yet commit a row they would read.
//
// A row's `tx_id` is its transaction's id, and a transaction that is still open may commit after
// later ones have, so a reader stops below the oldest open one (the emmett / Marten technique).
// That oldest open one is the snapshot's xmin, but xids are counted for the whole server: a long
// write transaction in another database on a shared Postgres (a batch job, a migration, a
// `CREATE INDEX CONCURRENTLY`) would hold every reader back for as long as it runs, and with
// them berth's rollouts, route tables and drains. A transaction connected to another database
// cannot write to this one, so those are passed over: the horizon is the oldest open xid of the
// snapshot not seen running in another database in pg_stat_activity. Anything not positively
// seen there (an xid that ended since the snapshot was taken, a prepared transaction, a backend
// whose row this role may not read, a background worker) still holds the readers, as before.
// pg_stat_activity's backend_xid is 32 bits, the snapshot's xid8 64: the low 32 bits compare
// (the xids open at once are within 2^31 of each other). Read through pg_stat_get_activity, the
// function under the view, which plans in ~0.15 ms warm where the view's joins take ~0.3 ms; the
// whole horizon costs ~0.2 ms a read, once a second or so per follower.
// On PGlite there is one connection and no other database: the horizon is the snapshot's xmax.
// A snapshot leaves out its own transaction's xid (the old xmin counted it): read inside a write
// transaction, this would let a reader see its own uncommitted rows. None does: every reader
// runs its statement alone (driver.query), and PGlite holds plain queries while a transaction is open.
export const SETTLED_HORIZON = `(SELECT coalesce(
    (SELECT min(open_xid) FROM pg_snapshot_xip(pg_current_snapshot()) AS open_xid
      WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) activity
        WHERE activity.backend_xid::text = (open_xid::text::numeric % 4294967296)::text
          AND activity.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
    pg_snapshot_xmax(pg_current_snapshot())))`;
