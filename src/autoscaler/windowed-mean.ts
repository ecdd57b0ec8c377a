// The mean of the samples of the last `span` ms, kept in a ring buffer with a running sum so a
// tick costs O(1) amortized instead of rescanning the window (the autoscaler ticks every second).

const RESUM_EVERY = 4096; // recompute the running sum now and then so float error cannot build up

export class WindowedMean {
  private times: Float64Array;
  private values: Float64Array;
  private head = 0; // index of the oldest sample
  private size = 0;
  private sum = 0;
  private pushes = 0;

  constructor(readonly span: number, initialCapacity = 64) {
    this.times = new Float64Array(initialCapacity);
    this.values = new Float64Array(initialCapacity);
  }

  /** Adds the sample taken at `at` (not before the last one) and drops those now outside the span. */
  push(at: number, value: number): void {
    this.evict(at - this.span);
    if (this.size === this.times.length) this.grow();
    const i = (this.head + this.size) % this.times.length;
    this.times[i] = at;
    this.values[i] = value;
    this.size++;
    this.sum += value;
    if (++this.pushes % RESUM_EVERY === 0) this.resum();
  }

  /**
   * Sum and count of the samples in (now - span, now], read without changing the window:
   * only the few samples that aged out since the last push are skipped.
   */
  read(now: number): { sum: number; count: number } {
    const cutoff = now - this.span;
    let sum = this.sum;
    let count = this.size;
    const cap = this.times.length;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % cap;
      if (this.times[i]! > cutoff) break;
      sum -= this.values[i]!;
      count--;
    }
    return { sum, count };
  }

  private evict(cutoff: number): void {
    while (this.size > 0 && this.times[this.head]! <= cutoff) {
      this.sum -= this.values[this.head]!;
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
    if (this.size === 0) this.sum = 0;
  }

  private resum(): void {
    let sum = 0;
    for (let k = 0; k < this.size; k++) sum += this.values[(this.head + k) % this.times.length]!;
    this.sum = sum;
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
