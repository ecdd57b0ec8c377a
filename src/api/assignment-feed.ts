// The version of each host's assignment set, for the agents' long-poll: the log position of the
// last event that changed which instances the host must run (InstancePlaced on it, or a stop
// requested for one of its instances). Versions are log positions, so they mean the same on
// every control plane and an agent can move between them.
//
// Follows the global log from its start: a control plane that just started learns each host's
// true version as it catches up, and a waiting agent is only woken by a real change.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../store/event-store.js';
import { comparePositions, LOG_START, type LogPosition } from '../store/log-position.js';

export class AssignmentFeed {
  readonly #versions = new Map<string, LogPosition>();
  readonly #instanceHosts = new Map<string, string>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #stop = new AbortController();
  #following: Promise<void> | undefined;

  constructor(private readonly store: EventStore) {}

  start(): this {
    this.#following ??= this.#follow();
    return this;
  }

  version(hostId: string): LogPosition {
    return this.#versions.get(hostId) ?? LOG_START;
  }

  /** Resolves once the host's version is past `after`, or after `timeoutMs`, or on abort. */
  async changed(hostId: string, after: LogPosition, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (comparePositions(this.version(hostId), after) > 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const waiters = this.#waiters.get(hostId) ?? new Set();
      this.#waiters.set(hostId, waiters);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#stop.signal.removeEventListener('abort', done);
        waiters.delete(wake);
        if (waiters.size === 0) this.#waiters.delete(hostId);
        resolve();
      };
      const wake = () => {
        if (comparePositions(this.version(hostId), after) > 0) done();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#stop.signal.addEventListener('abort', done, { once: true });
      waiters.add(wake);
    });
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#following;
  }

  async #follow(): Promise<void> {
    let after = LOG_START;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        for await (const event of this.store.subscribe({ after, signal, pollIntervalMs: 1_000 })) {
          after = { txId: event.txId, globalPosition: event.globalPosition };
          let host: string | undefined;
          if (event.type === 'InstancePlaced') {
            host = event.data.host;
            this.#instanceHosts.set(event.data.instance, host);
          } else if (event.type === 'InstanceStopRequested') {
            host = this.#instanceHosts.get(event.data.instance);
            this.#instanceHosts.delete(event.data.instance);
          }
          if (host !== undefined) {
            this.#versions.set(host, after);
            for (const wake of this.#waiters.get(host) ?? []) wake();
          }
        }
      } catch {
        // The database went away for a moment; the next read resumes where this one stopped.
        if (!signal.aborted) await sleep(1_000, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
