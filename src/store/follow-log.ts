// Reading the global log from its start for as long as a long-lived follower runs (the control
// plane's feeds), through the database going away for a moment.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from './event-store.js';
import { LOG_START, type LogPosition } from './log-position.js';
import type { RecordedEvent } from './recorded-event.js';

/**
 * Hands every event of the log to `onEvent` in order, with its log position, until `signal`
 * aborts; a failed read resumes where it stopped.
 */
export async function followLog(store: EventStore, signal: AbortSignal, onEvent: (event: RecordedEvent, position: LogPosition) => void): Promise<void> {
  let after = LOG_START;
  while (!signal.aborted) {
    try {
      for await (const event of store.subscribe({ after, signal, pollIntervalMs: 1_000 })) {
        after = { txId: event.txId, globalPosition: event.globalPosition };
        onEvent(event, after);
      }
    } catch {
      // The database went away for a moment; the next read resumes where this one stopped.
      if (!signal.aborted) await sleep(1_000, undefined, { signal }).catch(() => undefined);
    }
  }
}
