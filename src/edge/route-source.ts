// Where route tables come from: the control plane's long poll (poll-route-source.ts) or memory
// (tests, and `berth up`, which runs the control plane in the same process).
import type { RouteTable } from './route-table.js';

export interface RouteSource {
  /** Calls `onTable` with each new table, the first as soon as there is one, until stopped. */
  start(onTable: (table: RouteTable) => void): void;
  stop(): Promise<void>;
}
