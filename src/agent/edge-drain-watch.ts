// The agent's side of "are the edges done with it?": while instances wait for their stop, one
// loop asks the control plane about all of them at once (`POST /v1/agent/drains`), twice a
// second, and wakes each one's wait as soon as the answer says drained. A control plane that
// does not answer leaves them waiting: their grace period bounds the wait (stop-verdict.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrainAnswer } from '../api/protocol/agent-protocol.js';

/** Edges report once a second; asking twice as often keeps the stop within ~1.5 s of the drain. */
export const DRAIN_POLL_MS = 500;

export class EdgeDrainWatch {
  /** instances being waited for, each with the wakes of its waits */
  readonly #waits = new Map<string, Set<() => void>>();
  readonly #drained = new Set<string>();
  #polling = false;
  #failing = false;

  constructor(
    private readonly ask: (instances: string[], signal: AbortSignal) => Promise<DrainAnswer>,
    private readonly signal: AbortSignal,
    private readonly onFailure: (error: unknown, recovered: boolean) => void = () => undefined,
    private readonly intervalMs = DRAIN_POLL_MS,
  ) {}

  /** The latest answer says every live edge is done with `instance`. */
  drained(instance: string): boolean {
    return this.#drained.has(instance);
  }

  /** Resolves once `instance` is reported drained, at `until` (ms since epoch), or when the agent closes. */
  async until(instance: string, until: number): Promise<void> {
    if (this.#drained.has(instance) || this.signal.aborted) return;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const wakes = this.#waits.get(instance) ?? new Set();
    this.#waits.set(instance, wakes.add(wake));
    if (!this.#polling) void this.#poll();
    const timer = setTimeout(wake, Math.max(0, until - Date.now()));
    const onAbort = (): void => wake();
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await woken;
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', onAbort);
      wakes.delete(wake);
      if (wakes.size === 0 && this.#waits.get(instance) === wakes) this.#waits.delete(instance);
    }
  }

  /** The instance is stopped (or handed back): its answer is no longer needed. */
  forget(instance: string): void {
    this.#drained.delete(instance);
  }

  /** Never throws; the flag is cleared in the same turn the loop sees no one waiting. */
  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      // the waits that begin together (a scale-in's stops, after the same minimum) share the first question
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#waits.size > 0 && !this.signal.aborted) {
        try {
          const answer = await this.ask([...this.#waits.keys()], this.signal);
          if (this.#failing) this.onFailure(undefined, true);
          this.#failing = false;
          for (const { id, drained } of answer.instances) {
            if (!drained) continue;
            this.#drained.add(id);
            for (const wake of this.#waits.get(id) ?? []) wake();
          }
        } catch (error) {
          if (this.signal.aborted) return;
          // once per outage, not once per question
          if (!this.#failing) this.onFailure(error, false);
          this.#failing = true;
        }
        await sleep(this.intervalMs, undefined, { signal: this.signal }).catch(() => undefined);
      }
    } finally {
      this.#polling = false;
    }
  }
}
