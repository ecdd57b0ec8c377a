// Route tables handed over in memory: for tests, and for `berth up`, whose control plane runs in
// the same process as its edge.
import { parseRouteTable, type RouteTable, type RouteTableDocument } from './route-table.js';
import type { RouteSource } from './route-source.js';

export class MemoryRouteSource implements RouteSource {
  private table: RouteTable | undefined;
  private listener: ((table: RouteTable) => void) | undefined;

  constructor(initial?: RouteTableDocument) {
    if (initial !== undefined) this.table = this.check(initial);
  }

  start(onTable: (table: RouteTable) => void): void {
    this.listener = onTable;
    if (this.table !== undefined) onTable(this.table);
  }

  /** Hands a new table to the edge; the document is checked as one from the wire would be. */
  publish(document: RouteTableDocument): RouteTable {
    this.table = this.check(document);
    this.listener?.(this.table);
    return this.table;
  }

  get current(): RouteTable | undefined {
    return this.table;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  private check(document: RouteTableDocument): RouteTable {
    const parsed = parseRouteTable(document);
    if (!parsed.ok) throw new Error(`route table: ${parsed.message}`);
    return parsed.table;
  }
}
