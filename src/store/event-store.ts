// The event store of DESIGN §3: append with an expected stream version, read a stream, read the
// global log in commit order, subscribe. Inline projections are updated in the append's own
// transaction. One implementation over either SQL driver.
import { ConflictError } from '../core/errors.js';
import type { BerthEvent } from '../domain/events.js';
import { inlineProjections } from './inline-projections.js';
import { LOG_START, type LogPosition } from './log-position.js';
import { migrate } from './migrations.js';
import { loadRows, queueRowWrites, type Projection } from './projection.js';
import { EVENT_COLUMNS, eventFromRow, type EventMetadata, type EventRow, type RecordedEvent } from './recorded-event.js';
import { SETTLED_HORIZON } from './settled-horizon.js';
import { sqlState, UNIQUE_VIOLATION, type SqlDriver } from './sql-driver.js';
import { Wakeup } from './wakeup.js';

export interface AppendOptions {
  /**
   * The stream version the caller decided on (0: the stream must not exist yet). `any` appends
   * after whatever is there, for writers whose events do not depend on the stream's state.
   */
  readonly expectedVersion: number | 'any';
  readonly metadata?: EventMetadata;
}

export interface AppendResult {
  /** The stream's version after the append: pass it as `expectedVersion` next time. */
  readonly nextExpectedVersion: number;
  readonly events: readonly RecordedEvent[];
}

export interface ReadAllOptions {
  readonly after?: LogPosition;
  readonly limit?: number;
}

export interface SubscribeOptions extends ReadAllOptions {
  readonly signal?: AbortSignal;
  /** How long to wait for new events between reads when nothing wakes the subscriber sooner. */
  readonly pollIntervalMs?: number;
}

export const EVENTS_CHANNEL = 'berth_events';

// Checks the expected version and inserts in one statement: the head is read in the statement's
// snapshot, and a writer that raced past it collides on (stream_id, stream_version) instead.
const APPEND = `WITH head AS (SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1)
  INSERT INTO events (stream_id, stream_version, type, data, metadata)
  SELECT $1, head.version + e.n, e.type, e.data, $4::jsonb
  FROM head, jsonb_to_recordset($2::jsonb) AS e(n integer, type text, data jsonb)
  WHERE $3::integer IS NULL OR head.version = $3::integer
  RETURNING global_position, stream_version, tx_id::text::bigint AS tx_id, at`;

const NOTIFY = `SELECT pg_notify('${EVENTS_CHANNEL}', '')`;

const STREAM_VERSION = `SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1`;

const READ_STREAM = `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`;

// Rows of a transaction still running can commit later with a smaller global_position than rows
// already read; stopping below the oldest running transaction of this database (settled-horizon.ts)
// means a row is read only once everything before it in commit order is settled (the emmett /
// Marten technique).
const READ_ALL = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)
    AND tx_id < ${SETTLED_HORIZON}
  ORDER BY tx_id, global_position
  LIMIT $3`;

type Appended = Pick<EventRow, 'global_position' | 'stream_version' | 'tx_id' | 'at'>;

const ANY_RETRIES = 20;

export class EventStore {
  private readonly appended = new Wakeup();
  private stopListening: Promise<() => Promise<void>> | undefined;
  private othersBehind = false;
  private telling: Promise<void> | undefined;

  private constructor(
    readonly driver: SqlDriver,
    private readonly projections: readonly Projection[],
  ) {}

  /** Migrates the database, then serves it. The store owns the driver and closes it. */
  static async open(driver: SqlDriver, options: { projections?: readonly Projection[] } = {}): Promise<EventStore> {
    try {
      await migrate(driver);
    } catch (error) {
      await driver.close().catch(() => {});
      throw error;
    }
    return new EventStore(driver, options.projections ?? inlineProjections);
  }

  async append(streamId: string, events: readonly BerthEvent[], options: AppendOptions): Promise<AppendResult> {
    const { expectedVersion } = options;
    if (events.length === 0) {
      const version = await this.streamVersion(streamId);
      if (expectedVersion !== 'any' && expectedVersion !== version) throw this.conflict(streamId, expectedVersion, version);
      return { nextExpectedVersion: version, events: [] };
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const recorded = await this.driver.transaction(async (tx) => {
          const batch = JSON.stringify(events.map((e, i) => ({ n: i + 1, type: e.type, data: e.data })));
          const expected = expectedVersion === 'any' ? null : expectedVersion;
          const metadata = options.metadata ?? {};
          // One round trip: the INSERT and the loads of the projection rows it will touch...
          const [rows, loaded] = await Promise.all([
            tx.query<Appended>(APPEND, [streamId, batch, expected, JSON.stringify(metadata)]),
            loadRows(tx, this.projections, events.map((e) => ({ ...e, streamId }))),
          ]);
          if (rows.length === 0) {
            const [head] = await tx.query<{ version: number }>(STREAM_VERSION, [streamId]);
            throw this.conflict(streamId, expectedVersion, head?.version ?? 0);
          }
          rows.sort((a, b) => a.stream_version - b.stream_version);
          const out = rows.map(
            (row, i) =>
              ({
                ...events[i],
                streamId,
                streamVersion: row.stream_version,
                globalPosition: row.global_position,
                txId: row.tx_id,
                at: row.at,
                metadata,
              }) as RecordedEvent,
          );
          // ...and a second: the projection upserts, followed by the driver's COMMIT.
          queueRowWrites(tx, loaded, out);
          return out;
        });
        this.tellOthers();
        this.appended.wake();
        return { nextExpectedVersion: recorded.at(-1)?.streamVersion ?? 0, events: recorded };
      } catch (error) {
        if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
        // Another writer took the versions between our read of the head and our insert.
        if (expectedVersion === 'any' && attempt < ANY_RETRIES) continue;
        throw new ConflictError(`stream ${streamId} moved on while appending; read it again and retry`, {
          streamId,
          expectedVersion,
        });
      }
    }
  }

  async readStream(streamId: string, options: { after?: number } = {}): Promise<{ version: number; events: RecordedEvent[] }> {
    const rows = await this.driver.query<EventRow>(READ_STREAM, [streamId, options.after ?? 0]);
    const events = rows.map(eventFromRow);
    return { version: events.at(-1)?.streamVersion ?? options.after ?? 0, events };
  }

  async streamVersion(streamId: string): Promise<number> {
    const [row] = await this.driver.query<{ version: number }>(STREAM_VERSION, [streamId]);
    return row?.version ?? 0;
  }

  /** The next events of the global log after `after`, in commit order, never past a gap still open. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? LOG_START;
    const rows = await this.driver.query<EventRow>(READ_ALL, [String(after.txId), after.globalPosition, options.limit ?? 1000]);
    return rows.map(eventFromRow);
  }

  /**
   * Every event after `options.after`, in commit order, then each new one as it commits, until
   * the signal aborts. Woken by this store's appends and, on a server, by NOTIFY from others;
   * polls in any case, since a wake-up can come before the event is readable.
   */
  async *subscribe(options: SubscribeOptions = {}): AsyncGenerator<RecordedEvent, void, undefined> {
    const { signal, pollIntervalMs = 500, limit = 500 } = options;
    let after = options.after ?? LOG_START;
    await this.listenForOthers();
    while (!signal?.aborted) {
      const waiting = this.appended.next(pollIntervalMs, signal);
      const batch = await this.readAll({ after, limit });
      for (const event of batch) {
        after = { txId: event.txId, globalPosition: event.globalPosition };
        yield event;
        if (signal?.aborted) return;
      }
      if (batch.length < limit) await waiting;
    }
  }

  async close(): Promise<void> {
    await this.telling;
    const stop = await this.stopListening;
    await stop?.();
    this.appended.close();
    await this.driver.close();
  }

  /**
   * Wakes subscribers in other processes. NOTIFY inside the append would serialize every commit
   * on Postgres' notify queue lock; sent after commit, on its own, one NOTIFY covers all the
   * appends that committed while the previous one was on its way. A NOTIFY lost to a crash only
   * delays others until their next poll.
   */
  private tellOthers(): void {
    if (!this.driver.listen) return;
    this.othersBehind = true;
    this.telling ??= (async () => {
      while (this.othersBehind) {
        this.othersBehind = false;
        await this.driver.query(NOTIFY).catch(() => {});
      }
      this.telling = undefined;
    })();
  }

  private listenForOthers(): Promise<unknown> {
    if (!this.driver.listen) return Promise.resolve();
    this.stopListening ??= this.driver.listen(EVENTS_CHANNEL, () => this.appended.wake());
    return this.stopListening;
  }

  private conflict(streamId: string, expected: number | 'any', actual: number): ConflictError {
    return new ConflictError(`stream ${streamId} is at version ${actual}, not ${String(expected)}; read it again and retry`, {
      streamId,
      expectedVersion: expected,
      actualVersion: actual,
    });
  }
}
