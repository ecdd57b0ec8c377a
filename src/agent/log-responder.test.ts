// The agent's answer to a followed log request, against a stand-in control plane and driver:
// what it posts, and when it stops.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LogBatch, LogRequest } from '../api/protocol/log-protocol.js';
import type { BerthClient } from '../client/berth-client.js';
import type { Driver, InstanceLogs, InstanceStatus } from './driver.js';
import { HeldLines, LogResponder } from './log-responder.js';

const untilAborted = (signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener('abort', () => resolve(), { once: true })));

/** A control plane that hands out `request` once, then holds the poll; batches go to `onBatch`. */
function standIn(request: LogRequest, onBatch: (batch: LogBatch) => Promise<boolean>): { client: BerthClient; handed: () => boolean } {
  let handed = false;
  const client = {
    logRequests: async ({ signal }: { signal?: AbortSignal }) => {
      if (!handed) {
        handed = true;
        return { requests: [request], cancelled: [] };
      }
      await untilAborted(signal);
      throw new Error('aborted');
    },
    sendLogBatch: (_id: string, batch: LogBatch) => onBatch(batch),
  } as unknown as BerthClient;
  return { client, handed: () => handed };
}

describe('LogResponder', () => {
  it('ends a follow, after its last lines, once the instance is removed from the host', async () => {
    const request: LogRequest = { id: 'r1', instance: 'web-1', tail: 0, follow: true };
    const posts: LogBatch[] = [];
    const { client } = standIn(request, async (batch) => {
      posts.push(batch);
      return batch.done !== true;
    });
    let removed = false;
    const logs: InstanceLogs = {
      tail: async () => [],
      async *follow(signal) {
        yield 'last words';
        await untilAborted(signal);
      },
      tailToFollow: async () => ({ lines: [], follow: (signal) => logs.follow(signal) }),
    };
    const driver = { get: (id: string) => (removed ? undefined : ({ id } as InstanceStatus)), logs: () => logs } as unknown as Driver;

    const stop = new AbortController();
    const running = new LogResponder(client, driver, pino({ level: 'silent' }), 1_000).run(stop.signal);
    try {
      await expect.poll(() => posts.flatMap((p) => p.lines)).toEqual(['last words']);
      expect(posts.some((p) => p.done === true)).toBe(false);
      removed = true;
      await expect.poll(() => posts.at(-1), { timeout: 3_000 }).toEqual({ lines: [], done: true });
    } finally {
      stop.abort();
      await running;
    }
  });

  it('keeps the lines written while the tail is being posted', async () => {
    const request: LogRequest = { id: 'r2', instance: 'web-1', tail: 10, follow: true };
    const posts: LogBatch[] = [];
    const written = ['booting'];
    let releaseTail: () => void = () => {};
    const tailPosted = new Promise<void>((resolve) => (releaseTail = resolve));
    const { client, handed } = standIn(request, async (batch) => {
      // the tail's post is slow; the app writes meanwhile
      if (posts.length === 0) await tailPosted;
      posts.push(batch);
      return true;
    });
    // as the real log: a follow reads what is written after it starts
    const logs: InstanceLogs = {
      tail: async () => [...written],
      async *follow(signal) {
        let seen = written.length;
        while (!signal?.aborted) {
          while (seen < written.length) yield written[seen++]!;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      },
      tailToFollow: async () => ({ lines: [...written], follow: (signal) => logs.follow(signal) }),
    };
    const driver = { get: (id: string) => ({ id }) as InstanceStatus, logs: () => logs } as unknown as Driver;

    const stop = new AbortController();
    const running = new LogResponder(client, driver, pino({ level: 'silent' }), 1_000).run(stop.signal);
    try {
      await expect.poll(handed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      written.push('listening on :8080');
      await new Promise((resolve) => setTimeout(resolve, 50));
      releaseTail();
      await expect.poll(() => posts.flatMap((p) => p.lines), { timeout: 3_000 }).toEqual(['booting', 'listening on :8080']);
    } finally {
      stop.abort();
      await running;
    }
  });
});

describe('HeldLines', () => {
  it('holds at most its limit, dropping the oldest in a block and saying how many before the rest', () => {
    const held = new HeldLines(10);
    for (let n = 1; n <= 25; n++) held.push(`line ${n}`);
    const all: string[] = [];
    while (held.length > 0) all.push(...held.take(4));
    expect(all[0]).toMatch(/^\[berth: \d+ lines skipped here/);
    const kept = all.slice(1).map((l) => Number(l.split(' ')[1]));
    // the newest are kept, in order, and what was skipped plus what was kept is everything
    expect(kept.at(-1)).toBe(25);
    expect(kept.every((n, i) => i === 0 || n === kept[i - 1]! + 1)).toBe(true);
    expect(Number(/(\d+) lines skipped/.exec(all[0]!)![1]) + kept.length).toBe(25);
    expect(kept.length).toBeLessThanOrEqual(10);
  });

  it('passes lines through untouched while under its limit', () => {
    const held = new HeldLines(10);
    for (let n = 1; n <= 5; n++) held.push(`line ${n}`);
    expect(held.take(3)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(held.take(3)).toEqual(['line 4', 'line 5']);
    expect(held.length).toBe(0);
  });
});
