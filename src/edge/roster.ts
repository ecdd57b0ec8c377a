// An unordered set for membership that changes with every connection: the proxy's open client
// connections, and what is attached to each instance. Each member keeps its own position in a
// named field, so adding and removing are an array write and a swap, with no hash table.
//
// Why not a Set: V8 rebuilds a Set's table as entries come and go, and each table it discards
// keeps a pointer to its replacement (for iterators still walking it). Once promoted to the old
// generation, those discarded tables form a chain to the newest one, and the young-generation
// collector counts every pointer from an old object as live without asking whether the old object
// is: every connection any table in the chain ever listed survived its scavenge and was promoted,
// until the next full collection. Under `Connection: close` traffic (a Set add and delete per
// connection) that was 5-12 MB promoted per scavenge, scavenges of 15-20 ms and a p99 of 21 ms;
// with a roster, under 1 MB, about 1.5 ms and 4-6 ms (docs/edge.md).

/** The fields members keep their position in: one per kind of roster, as a member may be in one roster of each kind. */
export type RosterField = 'connectionSlot' | 'attachmentSlot';

/** A member of rosters of kind `F`: its position there, -1 while in none. */
export type RosterMember<F extends RosterField> = { [K in F]: number };

export class Roster<F extends RosterField, T extends RosterMember<F>> {
  private readonly items: T[] = [];

  constructor(private readonly field: F) {}

  get size(): number {
    return this.items.length;
  }

  has(item: T): boolean {
    const at = item[this.field];
    return at >= 0 && this.items[at] === item;
  }

  add(item: T): void {
    if (this.has(item)) return;
    // a member is in one roster of a kind at a time; a second would overwrite the first's position
    if (item[this.field] >= 0) throw new Error(`roster: the item is already in another roster by ${this.field}`);
    (item as RosterMember<F>)[this.field] = this.items.length;
    this.items.push(item);
  }

  delete(item: T): boolean {
    if (!this.has(item)) return false;
    const at = item[this.field];
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[at] = last;
      (last as RosterMember<F>)[this.field] = at;
    }
    (item as RosterMember<F>)[this.field] = -1;
    return true;
  }

  /** The members now, as a copy: what is done to each may add or remove members. */
  snapshot(): T[] {
    return this.items.slice();
  }

  clear(): void {
    for (const item of this.items) (item as RosterMember<F>)[this.field] = -1;
    this.items.length = 0;
  }
}
