// The wait under the control plane's long-polls (agents' assignments and log requests, edges'
// route table): a request parks until its condition holds at one of its feed's wakes, its time
// runs out, or it or the feed is aborted.

/**
 * Resolves once `ready()` holds when `waiters` are woken, after `timeoutMs`, or when one of
 * `signals` aborts. Its wake sits in `waiters` while it waits and is removed before it resolves.
 */
export function waitForNews(
  waiters: Set<() => void>,
  ready: () => boolean,
  timeoutMs: number,
  signals: readonly (AbortSignal | undefined)[],
): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', done);
      waiters.delete(wake);
      resolve();
    };
    const wake = (): void => {
      if (ready()) done();
    };
    const timer = setTimeout(done, timeoutMs);
    for (const signal of signals) signal?.addEventListener('abort', done, { once: true });
    waiters.add(wake);
  });
}
