// The version of each host's assignment set, for the agents' long-poll: the log position of the
// last event that changed which instances the host must run (InstancePlaced on it, or a stop
// requested for one of its instances). Versions are log positions, so they mean the same on
// every control plane and an agent can move between them.
//
// Follows the global log from its start: a control plane that just started learns each host's
// true version as it catches up, and a waiting agent is only woken by a real change.
import type { EventStore } from '../store/event-store.js';
import { followLog } from '../store/follow-log.js';
import { comparePositions, LOG_START, type LogPosition } from '../store/log-position.js';
import { waitForNews } from './long-poll.js';

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
    const waiters = this.#waiters.get(hostId) ?? new Set();
    this.#waiters.set(hostId, waiters);
    await waitForNews(waiters, () => comparePositions(this.version(hostId), after) > 0, timeoutMs, [signal, this.#stop.signal]);
    // The last to leave removes the host's set, unless a newer one took its place meanwhile.
    if (waiters.size === 0 && this.#waiters.get(hostId) === waiters) this.#waiters.delete(hostId);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#following;
  }

  #follow(): Promise<void> {
    return followLog(this.store, this.#stop.signal, (event, position) => {
      let host: string | undefined;
      if (event.type === 'InstancePlaced') {
        host = event.data.host;
        this.#instanceHosts.set(event.data.instance, host);
      } else if (event.type === 'InstanceStopRequested') {
        host = this.#instanceHosts.get(event.data.instance);
        this.#instanceHosts.delete(event.data.instance);
      }
      if (host !== undefined) {
        this.#versions.set(host, position);
        for (const wake of this.#waiters.get(host) ?? []) wake();
      }
    });
  }
}
