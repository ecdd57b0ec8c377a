// The agent's side of `berth logs`: long-poll the control plane for log requests over the host
// credential, and answer each from the driver's instance logs in batches (the tail first, then,
// when following, new lines every FLUSH_MS). The agent opens no port: the control plane never
// needs to reach it, only the other way round, as for assignments.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { MAX_BATCH } from '../api/protocol/log-limits.js';
import type { LogRequest } from '../api/protocol/log-protocol.js';
import type { BerthClient } from '../client/berth-client.js';
import type { Driver } from './driver.js';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';

const FLUSH_MS = 200;

/**
 * Lines a follow holds while its batches wait on the control plane (each post may take minutes
 * when it is slow): past this, the oldest go, and the reader is told how many. The agent's memory
 * belongs to the host's instances.
 */
export const MAX_HELD_LINES = 10 * MAX_BATCH;

/** Lines read and not yet posted, at most `limit`: the oldest make way, counted. */
export class HeldLines {
  #lines: string[] = [];
  #skipped = 0;
  constructor(private readonly limit = MAX_HELD_LINES) {}

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.limit) {
      // dropped in a block, not one at a time: a shift per line is quadratic in a flood
      const over = this.#lines.length - Math.floor(this.limit / 2);
      this.#lines.splice(0, over);
      this.#skipped += over;
    }
  }

  get length(): number {
    return this.#lines.length + (this.#skipped > 0 ? 1 : 0);
  }

  /** The next batch: a note of the lines that made way first, if any. */
  take(max: number): string[] {
    const batch: string[] = [];
    if (this.#skipped > 0) {
      batch.push(`[berth: ${this.#skipped} lines skipped here: the control plane took them slower than the app wrote them]`);
      this.#skipped = 0;
    }
    batch.push(...this.#lines.splice(0, max - batch.length));
    return batch;
  }
}

export class LogResponder {
  readonly #answering = new Map<string, AbortController>();

  constructor(
    private readonly client: BerthClient,
    private readonly driver: Driver,
    private readonly log: Logger,
    private readonly pollWait = 25_000,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff();
    while (!signal.aborted) {
      try {
        const { requests, cancelled } = await this.client.logRequests({ wait: this.pollWait, signal });
        backoff.reset();
        for (const id of cancelled) this.#answering.get(id)?.abort();
        for (const request of requests) this.#answer(request, signal);
      } catch {
        if (signal.aborted) break;
        // The heartbeat loop reports outages; this one only waits them out.
        await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
      }
    }
    for (const answering of this.#answering.values()) answering.abort();
  }

  #answer(request: LogRequest, stop: AbortSignal): void {
    const done = new AbortController();
    const signal = AbortSignal.any([stop, done.signal]);
    this.#answering.set(request.id, done);
    void this.#send(request, signal)
      .catch((error: unknown) => {
        if (!signal.aborted) this.log.warn({ instance: request.instance, err: (error as Error).message }, 'answering a log request failed');
      })
      .finally(() => this.#answering.delete(request.id));
  }

  async #send(request: LogRequest, signal: AbortSignal): Promise<void> {
    const post = (lines: string[], done: boolean, error?: string): Promise<boolean> =>
      this.client.sendLogBatch(request.id, { lines, done, ...(error === undefined ? {} : { error }) }, signal);
    if (this.driver.get(request.instance) === undefined) {
      await post([], true, `instance ${request.instance} is not on this host any more (stopped and removed)`);
      return;
    }
    const logs = this.driver.logs(request.instance);
    const options = { since: request.since };
    // A follow goes on from where the tail ended (read in one turn, so nothing falls between),
    // and starts reading at once, not once the tail is posted: what the app writes while the
    // tail's batches travel (a booting app writes a lot) waits in the buffer.
    const read = request.follow ? await logs.tailToFollow(request.tail, options) : { lines: await logs.tail(request.tail, options), follow: undefined };
    const tail = read.lines;
    const buffer = new HeldLines();
    const following = read.follow;
    const reading =
      following !== undefined
        ? (async () => {
            for await (const line of following(signal)) buffer.push(line);
          })()
        : undefined;
    try {
      for (let i = 0; i < tail.length || i === 0; i += MAX_BATCH) {
        const last = i + MAX_BATCH >= tail.length;
        if (!(await post(tail.slice(i, i + MAX_BATCH), last && !request.follow))) return;
      }
      if (!request.follow) return;
      while (!signal.aborted) {
        await sleep(FLUSH_MS, undefined, { signal }).catch(() => undefined);
        while (buffer.length > 0 && !signal.aborted) {
          if (!(await post(buffer.take(MAX_BATCH), false))) return;
        }
        // A removed instance writes no more (its files are gone): the follow ends rather than
        // watch for them until the reader leaves, which, as a follow takes up the instances that
        // replace it, may be many deploys later.
        if (!signal.aborted && this.driver.get(request.instance) === undefined) {
          await post([], true);
          return;
        }
      }
    } finally {
      // Ends the follow (its loop watches the signal) when the reader left first.
      if (reading !== undefined) {
        if (!signal.aborted) this.#answering.get(request.id)?.abort();
        await reading.catch(() => undefined);
      }
    }
  }
}
