// An event as the store hands it back: the domain event plus where and when it was recorded.
import type { BerthEvent } from '../domain/events.js';

export interface EventMetadata {
  /** The request or loop iteration that caused the append, for tracing one change end to end. */
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Who asked: a token's subject, or a control loop's name. */
  readonly actor?: string;
}

export type RecordedEvent<E extends BerthEvent = BerthEvent> = E & {
  readonly streamId: string;
  /** 1 for a stream's first event. */
  readonly streamVersion: number;
  readonly globalPosition: number;
  readonly txId: number;
  readonly at: Date;
  readonly metadata: EventMetadata;
};

/** The columns of `events` as every reader selects them (xid8 through bigint, so it parses as a number). */
export const EVENT_COLUMNS = 'global_position, stream_id, stream_version, type, data, metadata, tx_id::text::bigint AS tx_id, at';

export interface EventRow {
  readonly global_position: number;
  readonly stream_id: string;
  readonly stream_version: number;
  readonly type: string;
  readonly data: object;
  readonly metadata: EventMetadata;
  readonly tx_id: number;
  readonly at: Date;
}

// The log only holds what append wrote, so its rows are trusted to be BerthEvents.
export const eventFromRow = (row: EventRow): RecordedEvent =>
  ({
    type: row.type,
    data: row.data,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    globalPosition: row.global_position,
    txId: row.tx_id,
    at: row.at,
    metadata: row.metadata,
  }) as RecordedEvent;
