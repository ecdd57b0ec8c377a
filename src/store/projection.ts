// Inline projections: tables the API reads, updated in the append's own transaction so they
// are never behind the log. A projection is a pure fold over rows keyed by id; this file does
// the I/O for a whole batch in two statements per projection (load the touched rows, upsert),
// sent so that an append costs two round trips in all.
//
// Idempotent by construction: every row belongs to one stream and remembers the stream version
// it has seen, so an event at or below it is skipped. Replaying the log (rebuild) therefore
// lands on the same rows as applying it live.
import type { BerthEvent, BerthEventType } from '../domain/events.js';
import type { RecordedEvent } from './recorded-event.js';
import type { SqlExecutor } from './sql-driver.js';

/** What a projection needs to find a row: the event and its stream, before it has a version. */
export type StreamEvent = BerthEvent & { readonly streamId: string };

export interface ProjectionRow {
  readonly id: string;
  readonly stream_version: number;
}

export interface Projection<R extends ProjectionRow = ProjectionRow> {
  readonly table: string;
  /** Every column of the table, in any order; rows carry exactly these keys (the contract suite checks the table). */
  readonly columns: readonly string[];
  readonly handles: readonly BerthEventType[];
  /** Events whose row does not depend on what was there: a batch of only these loads nothing. */
  readonly creates: readonly BerthEventType[];
  /** The row an event changes. */
  rowId(event: StreamEvent): string;
  /** The row after the event; undefined leaves it untouched (an event for a row never created). */
  evolve(row: R | undefined, event: RecordedEvent): Omit<R, 'stream_version'> | undefined;
}

interface Statements {
  readonly load: string;
  readonly upsert: string;
}

const statements = new WeakMap<Projection, Statements>();

function statementsOf(p: Projection): Statements {
  let s = statements.get(p);
  if (!s) {
    const columns = p.columns.join(', ');
    const updates = p.columns.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`);
    s = {
      load: `SELECT to_jsonb(t) AS row FROM ${p.table} t WHERE id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`,
      // The version guard keeps a row from moving backwards if a stale batch ever got this far.
      upsert: `INSERT INTO ${p.table} (${columns})
        SELECT ${columns} FROM jsonb_populate_recordset(null::${p.table}, $1::jsonb)
        ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}
        WHERE ${p.table}.stream_version < excluded.stream_version`,
    };
    statements.set(p, s);
  }
  return s;
}

/** Folds `events` into a projection's rows; returns the rows that changed. Pure. */
export function projectRows<R extends ProjectionRow>(
  p: Projection<R>,
  rows: Map<string, R>,
  events: readonly RecordedEvent[],
): R[] {
  const changed = new Set<string>();
  for (const event of events) {
    if (!p.handles.includes(event.type)) continue;
    const id = p.rowId(event);
    const row = rows.get(id);
    if (row && row.stream_version >= event.streamVersion) continue;
    const next = p.evolve(row, event);
    if (next === undefined) continue;
    rows.set(id, { ...next, stream_version: event.streamVersion } as R);
    changed.add(id);
  }
  return [...changed].map((id) => rows.get(id) as R);
}

/** The rows a batch touches, per projection, as they stood before it. */
export type LoadedRows = readonly { readonly projection: Projection; readonly rows: Map<string, ProjectionRow> }[];

/**
 * Loads the rows `events` will touch. Needs only stream ids, so an append sends it together with
 * its INSERT, before the events have versions.
 */
export async function loadRows(
  tx: SqlExecutor,
  projections: readonly Projection[],
  events: readonly StreamEvent[],
): Promise<LoadedRows> {
  const touched = projections.filter((p) => events.some((e) => p.handles.includes(e.type)));
  return Promise.all(
    touched.map(async (projection) => {
      const handled = events.filter((e) => projection.handles.includes(e.type));
      if (handled.every((e) => projection.creates.includes(e.type))) return { projection, rows: new Map<string, ProjectionRow>() };
      const ids = JSON.stringify([...new Set(handled.map((e) => projection.rowId(e)))]);
      const found = await tx.query<{ row: ProjectionRow }>(statementsOf(projection).load, [ids]);
      return { projection, rows: new Map(found.map(({ row }) => [row.id, row])) };
    }),
  );
}

/**
 * Folds `events` into the loaded rows and sends the upserts without waiting for them: the
 * transaction commits after its statements in flight (see SqlDriver.transaction), so the
 * writes and the COMMIT share one round trip.
 */
export function queueRowWrites(tx: SqlExecutor, loaded: LoadedRows, events: readonly RecordedEvent[]): void {
  for (const { projection, rows } of loaded) {
    const changed = projectRows(projection, rows, events);
    if (changed.length > 0) void tx.query(statementsOf(projection).upsert, [JSON.stringify(changed)]);
  }
}

/** Applies a batch of events, in log order, to every projection that handles some of them. */
export async function applyProjections(
  tx: SqlExecutor,
  projections: readonly Projection[],
  events: readonly RecordedEvent[],
): Promise<void> {
  queueRowWrites(tx, await loadRows(tx, projections, events), events);
}
