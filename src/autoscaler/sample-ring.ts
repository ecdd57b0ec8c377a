// The storage under the windowed aggregates: (time, value) samples in a ring buffer that doubles
// when full, oldest first. They push at the back and drop from the front as samples age out (the
// maximum also drops from the back), so a tick costs O(1) amortized.

export class SampleRing {
  private times: Float64Array;
  private values: Float64Array;
  private head = 0; // index of the oldest sample
  #size = 0;

  constructor(initialCapacity = 64) {
    this.times = new Float64Array(initialCapacity);
    this.values = new Float64Array(initialCapacity);
  }

  get size(): number {
    return this.#size;
  }

  /** The time of the k-th oldest sample (0: the oldest). */
  timeAt(k: number): number {
    return this.times[(this.head + k) % this.times.length]!;
  }

  /** The value of the k-th oldest sample (0: the oldest). */
  valueAt(k: number): number {
    return this.values[(this.head + k) % this.times.length]!;
  }

  push(at: number, value: number): void {
    if (this.#size === this.times.length) this.grow();
    const i = (this.head + this.#size) % this.times.length;
    this.times[i] = at;
    this.values[i] = value;
    this.#size++;
  }

  dropOldest(): void {
    this.head = (this.head + 1) % this.times.length;
    this.#size--;
  }

  dropNewest(): void {
    this.#size--;
  }

  private grow(): void {
    const cap = this.times.length;
    const times = new Float64Array(cap * 2);
    const values = new Float64Array(cap * 2);
    for (let k = 0; k < this.#size; k++) {
      times[k] = this.times[(this.head + k) % cap]!;
      values[k] = this.values[(this.head + k) % cap]!;
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}
