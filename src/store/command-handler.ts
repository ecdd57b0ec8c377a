// Runs a command against one stream: read, fold, decide, append with the version that was read.
// When another writer got there first the append fails with ConflictError and the whole cycle
// runs again on the fresh stream; a rule the decider refuses is thrown as is and never retried.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../core/errors.js';
import { fold, type Decider } from '../domain/decider.js';
import type { BerthEvent } from '../domain/events.js';
import type { EventStore } from './event-store.js';
import type { EventMetadata, RecordedEvent } from './recorded-event.js';

export interface HandleOptions {
  readonly metadata?: EventMetadata;
  /** Attempts before the ConflictError reaches the caller. */
  readonly maxAttempts?: number;
}

export interface Handled<State> {
  /** The state after the new events. */
  readonly state: State;
  readonly version: number;
  /** Empty when the command changed nothing (it was already in effect). */
  readonly events: readonly RecordedEvent[];
}

export async function handleCommand<Command, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, BerthEvent>,
  command: Command,
  options: HandleOptions = {},
): Promise<Handled<State>> {
  const maxAttempts = options.maxAttempts ?? 10;
  let state = decider.initialState();
  let version = 0;
  for (let attempt = 1; ; attempt++) {
    // After a conflict only the events another writer added are read and folded in.
    const read = await store.readStream(streamId, { after: version });
    state = fold(decider, read.events, state);
    version = read.version;
    const decision = decider.decide(command, state);
    if (!decision.ok) throw decision.error;
    if (decision.value.length === 0) return { state, version, events: [] };
    try {
      const appended = await store.append(streamId, decision.value, {
        expectedVersion: version,
        ...(options.metadata ? { metadata: options.metadata } : {}),
      });
      return {
        state: appended.events.reduce<State>((s, e) => decider.evolve(s, e), state),
        version: appended.nextExpectedVersion,
        events: appended.events,
      };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= maxAttempts) throw error;
      // A little jitter keeps writers that collided from colliding again in lockstep.
      await sleep(Math.random() * attempt * 2);
    }
  }
}
