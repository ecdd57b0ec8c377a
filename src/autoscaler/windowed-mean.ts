// The mean of the samples of the last `span` ms, kept in a ring buffer with a running sum so a
// tick costs O(1) amortized instead of rescanning the window (the autoscaler ticks every second).
import { SampleRing } from './sample-ring.js';

const RESUM_EVERY = 4096; // recompute the running sum now and then so float error cannot build up

export class WindowedMean {
  private readonly ring: SampleRing;
  private sum = 0;
  private pushes = 0;

  constructor(readonly span: number, initialCapacity = 64) {
    this.ring = new SampleRing(initialCapacity);
  }

  /** Adds the sample taken at `at` (not before the last one) and drops those now outside the span. */
  push(at: number, value: number): void {
    this.evict(at - this.span);
    this.ring.push(at, value);
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
    let count = this.ring.size;
    for (let k = 0; k < this.ring.size; k++) {
      if (this.ring.timeAt(k) > cutoff) break;
      sum -= this.ring.valueAt(k);
      count--;
    }
    return { sum, count };
  }

  private evict(cutoff: number): void {
    const ring = this.ring;
    while (ring.size > 0 && ring.timeAt(0) <= cutoff) {
      this.sum -= ring.valueAt(0);
      ring.dropOldest();
    }
    if (ring.size === 0) this.sum = 0;
  }

  private resum(): void {
    let sum = 0;
    for (let k = 0; k < this.ring.size; k++) sum += this.ring.valueAt(k);
    this.sum = sum;
  }
}
