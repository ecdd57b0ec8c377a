// Log requests between readers (`berth logs`, `berth explain`) and the agents that hold the
// files, in memory on the control plane the agent polls. A reader opens a request for one
// instance on one host; the host's agent takes it on its next long-poll and delivers batches,
// each delivery held while the reader is behind (backpressure reaches the agent's POST). A reader
// that leaves cancels: the next delivery hears `more: false` and the agent's poll wakes to say so.
//
// An agent polls one control plane at a time; with several replicas, a reader on another one is
// forwarded to this one (log-forwarding.ts), which `polled` tells apart.
import { randomBytes } from 'node:crypto';
import { UnavailableError } from '../core/errors.js';
import { waitForNews } from './long-poll.js';
import type { LogBatch, LogRequest, LogRequests } from './protocol/log-protocol.js';

/** ms a request waits for its host's agent to take it */
const PICKUP_MS = 5_000;
/** lines a reader may fall behind before deliveries wait for it */
const HIGH_WATER = 5_000;

interface HostQueue {
  requests: LogRequest[];
  cancelled: string[];
  wake: Set<() => void>;
  /** Date.now() when a take last returned; 0 before the first */
  polledAt: number;
}

interface OpenRequest {
  readonly hostId: string;
  readonly lines: string[];
  done: boolean;
  error: string | undefined;
  picked: boolean;
  cancelled: boolean;
  /** wakes the reader */
  notify: (() => void) | undefined;
  /** wakes a delivery waiting for room */
  drained: (() => void) | undefined;
}

export class LogRelay {
  readonly #hosts = new Map<string, HostQueue>();
  readonly #open = new Map<string, OpenRequest>();

  constructor(private readonly pickupMs = PICKUP_MS) {}

  #host(hostId: string): HostQueue {
    let queue = this.#hosts.get(hostId);
    if (!queue) {
      queue = { requests: [], cancelled: [], wake: new Set(), polledAt: 0 };
      this.#hosts.set(hostId, queue);
    }
    return queue;
  }

  /** The agent's long-poll: requests for its host, and the ids of those whose reader left. */
  async take(hostId: string, waitMs: number, signal?: AbortSignal): Promise<LogRequests> {
    const queue = this.#host(hostId);
    if (queue.requests.length === 0 && queue.cancelled.length === 0 && waitMs > 0 && !signal?.aborted) {
      // Any wake is news here: a request queued or a reader gone.
      await waitForNews(queue.wake, () => true, waitMs, [signal]);
    }
    const requests = queue.requests.splice(0);
    for (const r of requests) {
      const open = this.#open.get(r.id);
      if (open) open.picked = true;
    }
    // an agent that hung up is not polling here any more
    if (signal?.aborted !== true) queue.polledAt = Date.now();
    return { requests, cancelled: queue.cancelled.splice(0) };
  }

  /** Whether the host's agent polls this relay: a take waiting now, or one returned within `withinMs`. */
  polled(hostId: string, withinMs: number): boolean {
    const queue = this.#hosts.get(hostId);
    // only takes wait on `wake`; a reader waits on its own request
    return queue !== undefined && (queue.wake.size > 0 || Date.now() - queue.polledAt <= withinMs);
  }

  /** A batch from the agent; resolves once the reader has room, to whether it wants more. */
  async deliver(hostId: string, id: string, batch: LogBatch): Promise<boolean> {
    const open = this.#open.get(id);
    if (open === undefined || open.hostId !== hostId || open.cancelled) return false;
    open.picked = true;
    open.lines.push(...batch.lines);
    if (batch.error !== undefined) open.error = batch.error;
    if (batch.done || batch.error !== undefined) open.done = true;
    open.notify?.();
    while (open.lines.length > HIGH_WATER && !open.cancelled) await new Promise<void>((resolve) => (open.drained = resolve));
    return !open.cancelled && !open.done;
  }

  /**
   * The instance's lines from its host's agent, batch by batch, until the agent is done (or,
   * following, until `signal` aborts). Throws UnavailableError when no agent takes the request.
   */
  async *read(hostId: string, request: Omit<LogRequest, 'id'>, signal?: AbortSignal): AsyncGenerator<string[], void, undefined> {
    const id = randomBytes(8).toString('hex');
    const open: OpenRequest = { hostId, lines: [], done: false, error: undefined, picked: false, cancelled: false, notify: undefined, drained: undefined };
    this.#open.set(id, open);
    const queue = this.#host(hostId);
    queue.requests.push({ id, ...request });
    for (const wake of [...queue.wake]) wake();
    const pickupBy = Date.now() + this.pickupMs;
    try {
      for (;;) {
        if (open.lines.length > 0) {
          const lines = open.lines.splice(0);
          open.drained?.();
          yield lines;
          continue;
        }
        if (open.error !== undefined) throw new UnavailableError(open.error, { host: hostId, instance: request.instance });
        if (open.done || signal?.aborted) return;
        const wait = open.picked ? 60_000 : pickupBy - Date.now();
        if (wait <= 0) {
          throw new UnavailableError(`the agent of host ${hostId} did not answer for logs within ${this.pickupMs} ms (it is down, or reports to another control plane)`, {
            host: hostId,
            instance: request.instance,
          });
        }
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            open.notify = undefined;
            resolve();
          };
          const timer = setTimeout(done, wait);
          signal?.addEventListener('abort', done, { once: true });
          open.notify = done;
        });
      }
    } finally {
      this.#open.delete(id);
      open.cancelled = true;
      open.drained?.();
      const index = queue.requests.findIndex((r) => r.id === id);
      if (index >= 0) queue.requests.splice(index, 1);
      else if (!open.done) {
        queue.cancelled.push(id);
        for (const wake of [...queue.wake]) wake();
      }
    }
  }
}
