// The relay between log readers and agents, in memory: whether a host's agent polls here decides
// whether a reader on this replica reads here or is forwarded (log-forwarding.ts).
import { afterEach, describe, expect, test, vi } from 'vitest';
import { LogRelay } from './log-relay.js';

afterEach(() => vi.useRealTimers());

describe('polled: whether the host\'s agent polls this replica', () => {
  test('not before its first take, yes while a take waits, and for the window after one returns', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const relay = new LogRelay();
    expect(relay.polled('h1', 10_000)).toBe(false);

    const waiting = relay.take('h1', 30_000);
    vi.setSystemTime(Date.now() + 60_000); // a take parked for long still counts
    expect(relay.polled('h1', 10_000)).toBe(true);
    expect(relay.polled('h2', 10_000)).toBe(false); // another host's agent does not

    // a reader's request wakes the take, which returns it
    const reader = relay.read('h1', { instance: 'web-1', tail: 10, follow: false });
    const first = reader.next();
    const taken = await waiting;
    expect(taken.requests.map((r) => r.instance)).toEqual(['web-1']);
    expect(relay.polled('h1', 10_000)).toBe(true);
    vi.setSystemTime(Date.now() + 10_001);
    expect(relay.polled('h1', 10_000)).toBe(false);

    expect(await relay.deliver('h1', taken.requests[0]!.id, { lines: ['hello'], done: true })).toBe(false);
    expect(await first).toEqual({ done: false, value: ['hello'] });
    expect(await reader.next()).toEqual({ done: true, value: undefined });
  });

  test('a take the agent hung up does not count as polling here', async () => {
    const relay = new LogRelay();
    const hangUp = new AbortController();
    const waiting = relay.take('h1', 30_000, hangUp.signal);
    expect(relay.polled('h1', 10_000)).toBe(true);
    hangUp.abort();
    await waiting;
    expect(relay.polled('h1', 10_000)).toBe(false);
  });
});
