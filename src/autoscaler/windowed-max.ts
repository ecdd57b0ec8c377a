// The largest value recorded in the last `span` ms: a monotonic deque (values strictly
// decreasing from front to back, times increasing), so each value is pushed and dropped once and
// the maximum is the front. Scale-down stabilization reads it every tick.

export class WindowedMax {
  private times: Float64Array;
  private values: Float64Array;
  private head = 0;
  private size = 0;

  constructor(readonly span: number, initialCapacity = 64) {
    this.times = new Float64Array(initialCapacity);
    this.values = new Float64Array(initialCapacity);
  }

  push(at: number, value: number): void {
    const cap = this.times.length;
    // A newer value at least as large makes the older ones irrelevant for every future window.
    while (this.size > 0 && this.values[(this.head + this.size - 1) % cap]! <= value) this.size--;
    while (this.size > 0 && this.times[this.head]! <= at - this.span) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    if (this.size === this.times.length) this.grow();
    const i = (this.head + this.size) % this.times.length;
    this.times[i] = at;
    this.values[i] = value;
    this.size++;
  }

  /** The maximum over (now - span, now], or undefined when nothing was recorded in it. */
  read(now: number): number | undefined {
    const cutoff = now - this.span;
    const cap = this.times.length;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % cap;
      if (this.times[i]! > cutoff) return this.values[i]!;
    }
    return undefined;
  }

  private grow(): void {
    const cap = this.times.length;
    const times = new Float64Array(cap * 2);
    const values = new Float64Array(cap * 2);
    for (let k = 0; k < this.size; k++) {
      times[k] = this.times[(this.head + k) % cap]!;
      values[k] = this.values[(this.head + k) % cap]!;
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}
