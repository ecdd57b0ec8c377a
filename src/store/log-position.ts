// Where a reader of the global log stands. Commit order is (transaction id, position): a
// bigserial position alone is handed out at insert time, so a later position can commit first.
// Both fit a JS number: xid8 counts every transaction since initdb, far below 2^53.

export interface LogPosition {
  readonly txId: number;
  readonly globalPosition: number;
}

export const LOG_START: LogPosition = { txId: 0, globalPosition: 0 };

export const comparePositions = (a: LogPosition, b: LogPosition): number => a.txId - b.txId || a.globalPosition - b.globalPosition;
