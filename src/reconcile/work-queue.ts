// The keys waiting for a reconcile pass, each at most once (controller-runtime's work queue):
// a key added while it waits is not added twice, and a delayed add keeps the earliest time.

export class WorkQueue {
  readonly #ready = new Set<string>();
  readonly #later = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #wake: (() => void) | undefined;
  #closed = false;

  add(key: string): void {
    if (this.#closed) return;
    const pending = this.#later.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.#later.delete(key);
    }
    this.#ready.add(key);
    this.#wake?.();
  }

  addAfter(key: string, ms: number): void {
    if (this.#closed || this.#ready.has(key)) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.#later.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#later.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#later.set(key, { at, timer });
  }

  get size(): number {
    return this.#ready.size;
  }

  /** The next key in the order they were added; undefined once the signal aborts or the queue closes. */
  async next(signal: AbortSignal): Promise<string | undefined> {
    while (!this.#closed && !signal.aborted) {
      const [key] = this.#ready;
      if (key !== undefined) {
        this.#ready.delete(key);
        return key;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return undefined;
  }

  close(): void {
    this.#closed = true;
    for (const { timer } of this.#later.values()) clearTimeout(timer);
    this.#later.clear();
    this.#ready.clear();
    this.#wake?.();
  }
}
