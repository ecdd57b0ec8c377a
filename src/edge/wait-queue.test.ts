import { describe, expect, it } from 'vitest';
import { WaitQueue } from './wait-queue.js';

const limits = { limit: 2, timeoutMs: 60_000 };

describe('wait queue', () => {
  it('takes a waiter whose signal aborts out of the queue at once, freeing its place', async () => {
    const queue = new WaitQueue<string, number>();
    const left = new AbortController();
    const first = queue.wait('a', limits, left.signal);
    const second = queue.wait('b', limits);
    expect(await queue.wait('c', limits)).toEqual({ ok: false, reason: 'full' });
    left.abort();
    expect(await first).toEqual({ ok: false, reason: 'left' });
    expect(queue.length).toBe(1);
    const third = queue.wait('c', limits);
    const served: string[] = [];
    queue.serve((key) => (served.push(key), served.length));
    expect(served).toEqual(['b', 'c']);
    expect(await second).toEqual({ ok: true, value: 1 });
    expect(await third).toEqual({ ok: true, value: 2 });
  });

  it('does not queue a waiter whose signal has already aborted', async () => {
    const queue = new WaitQueue<string, number>();
    expect(await queue.wait('a', limits, AbortSignal.abort())).toEqual({ ok: false, reason: 'left' });
    expect(queue.length).toBe(0);
  });

  it('lets go of the signal of a served waiter', async () => {
    const queue = new WaitQueue<string, number>();
    const left = new AbortController();
    const waiting = queue.wait('a', limits, left.signal);
    const next = queue.wait('b', limits);
    let taken = 0;
    queue.serve(() => (taken++ === 0 ? 7 : undefined));
    left.abort();
    expect(await waiting).toEqual({ ok: true, value: 7 });
    // the abort after its turn did not take anyone else out
    expect(queue.length).toBe(1);
    queue.close();
    expect(await next).toEqual({ ok: false, reason: 'closed' });
  });
});
