// A first-in first-out queue for the per-request hot path: Array#shift re-indexes the array on
// every call, and emptying an array by `length = 0` makes the next push grow it again. These
// queues (requests awaiting answers on one connection) are nearly always one long, so a small
// ring that doubles when full does no allocation in the steady state.
export class Fifo<T> {
  private items: (T | undefined)[] = [undefined, undefined, undefined, undefined];
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    const items = this.items;
    if (this.count === items.length) {
      this.grow();
      return this.push(item);
    }
    items[(this.head + this.count) & (items.length - 1)] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const items = this.items;
    const item = items[this.head];
    items[this.head] = undefined;
    this.head = (this.head + 1) & (items.length - 1);
    this.count--;
    return item;
  }

  /** Empties the queue, returning what was in it, oldest first. */
  takeAll(): T[] {
    const rest: T[] = [];
    while (this.count > 0) rest.push(this.shift()!);
    return rest;
  }

  /** Twice the room, oldest first from index 0 (the capacity stays a power of two for the mask). */
  private grow(): void {
    const items = this.items;
    const next: (T | undefined)[] = new Array<T | undefined>(items.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = items[(this.head + i) & (items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
