// The largest value recorded in the last `span` ms: a monotonic deque (values strictly
// decreasing from front to back, times increasing), so each value is pushed and dropped once and
// the maximum is the front. Scale-down stabilization reads it every tick.
import { SampleRing } from './sample-ring.js';

export class WindowedMax {
  private readonly ring: SampleRing;

  constructor(readonly span: number, initialCapacity = 64) {
    this.ring = new SampleRing(initialCapacity);
  }

  push(at: number, value: number): void {
    const ring = this.ring;
    // A newer value at least as large makes the older ones irrelevant for every future window.
    while (ring.size > 0 && ring.valueAt(ring.size - 1) <= value) ring.dropNewest();
    while (ring.size > 0 && ring.timeAt(0) <= at - this.span) ring.dropOldest();
    ring.push(at, value);
  }

  /** The maximum over (now - span, now], or undefined when nothing was recorded in it. */
  read(now: number): number | undefined {
    const cutoff = now - this.span;
    for (let k = 0; k < this.ring.size; k++) {
      if (this.ring.timeAt(k) > cutoff) return this.ring.valueAt(k);
    }
    return undefined;
  }
}
