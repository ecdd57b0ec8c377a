// A bounded FIFO of requests (or connections) waiting for an instance: for a hard limit to free
// up, or for the activator to bring a service up from zero. Bounded in length and in time, so a
// stuck service answers 503 quickly instead of holding memory and clients forever.
import type { QueueLimits } from './route-table.js';

/** `left`: the waiter's signal aborted (its client hung up) before it was served. */
export type WaitOutcome<T> = { ok: true; value: T } | { ok: false; reason: 'full' | 'timeout' | 'closed' | 'left' };

interface Waiter<K, T> {
  readonly key: K;
  readonly resolve: (outcome: WaitOutcome<T>) => void;
  timer: NodeJS.Timeout | undefined;
  /** stops listening to the waiter's signal */
  forget: (() => void) | undefined;
}

export class WaitQueue<K, T> {
  private readonly waiters: Waiter<K, T>[] = [];
  private head = 0;

  get length(): number {
    return this.waiters.length - this.head;
  }

  /** `signal`: the waiter leaves the queue when it aborts (a client that hung up), freeing its place. */
  wait(key: K, limits: QueueLimits, signal?: AbortSignal): Promise<WaitOutcome<T>> {
    if (signal?.aborted) return Promise.resolve({ ok: false, reason: 'left' });
    if (this.length >= limits.limit) return Promise.resolve({ ok: false, reason: 'full' });
    return new Promise((resolve) => {
      const waiter: Waiter<K, T> = { key, resolve, timer: undefined, forget: undefined };
      waiter.timer = setTimeout(() => {
        waiter.timer = undefined;
        this.remove(waiter);
        resolve({ ok: false, reason: 'timeout' });
      }, limits.timeoutMs);
      if (signal !== undefined) {
        const leave = (): void => {
          this.remove(waiter);
          resolve({ ok: false, reason: 'left' });
        };
        signal.addEventListener('abort', leave, { once: true });
        waiter.forget = () => signal.removeEventListener('abort', leave);
      }
      this.waiters.push(waiter);
    });
  }

  /** Takes a waiter out of the queue before its turn (it timed out or left). */
  private remove(waiter: Waiter<K, T>): void {
    clearTimeout(waiter.timer);
    waiter.forget?.();
    const at = this.waiters.indexOf(waiter, this.head);
    if (at >= 0) this.waiters.splice(at, 1);
  }

  /** Hands out to waiters in order while `take` finds something for the one at the front. */
  serve(take: (key: K) => T | undefined): void {
    while (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!;
      const value = take(waiter.key);
      if (value === undefined) break;
      this.head++;
      clearTimeout(waiter.timer);
      waiter.forget?.();
      waiter.resolve({ ok: true, value });
    }
    // compact now and then rather than shifting on every hand-out
    if (this.head > 64 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
  }

  close(): void {
    for (let i = this.head; i < this.waiters.length; i++) {
      const waiter = this.waiters[i]!;
      clearTimeout(waiter.timer);
      waiter.forget?.();
      waiter.resolve({ ok: false, reason: 'closed' });
    }
    this.waiters.length = 0;
    this.head = 0;
  }
}
