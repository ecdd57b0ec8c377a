// A first-in first-out queue for the per-request hot path: Array#shift re-indexes the array on
// every call, and these queues (requests awaiting answers on one connection) are nearly always
// one long.
export class Fifo<T> {
  private readonly items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return item;
  }

  /** Empties the queue, returning what was in it, oldest first. */
  takeAll(): T[] {
    const rest = this.items.slice(this.head);
    this.items.length = 0;
    this.head = 0;
    return rest;
  }
}
