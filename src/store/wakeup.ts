// Lets subscribers sleep until an append (or a NOTIFY) says there may be something to read, or
// until their poll interval passes, whichever comes first.

export class Wakeup {
  private readonly waiters = new Set<() => void>();

  wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const resume of waiting) resume();
  }

  /** Resolves at the next wake(), after `timeoutMs`, or when `signal` aborts. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const resume = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', resume);
        this.waiters.delete(resume);
        resolve();
      };
      const timer = setTimeout(resume, timeoutMs);
      signal?.addEventListener('abort', resume, { once: true });
      this.waiters.add(resume);
    });
  }

  close(): void {
    this.wake();
  }
}
