// Records a pass's commands in one append, at the stream version the pass read: the decider
// checks each command against the state the previous ones left, and a writer that moved the
// stream since the read makes the append fail with ConflictError (the loop retries the key).
import type { Decider } from '../domain/decider.js';
import type { BerthEvent } from '../domain/events.js';
import type { EventStore } from '../store/event-store.js';
import type { EventMetadata, RecordedEvent } from '../store/recorded-event.js';

export async function appendCommands<Command, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, BerthEvent>,
  read: { readonly state: State; readonly version: number },
  commands: readonly Command[],
  metadata: EventMetadata,
): Promise<readonly RecordedEvent[]> {
  let state = read.state;
  const events: BerthEvent[] = [];
  for (const command of commands) {
    const decision = decider.decide(command, state);
    // The plan was made from this very state: a refusal is a bug in the plan, not a race.
    if (!decision.ok) throw decision.error;
    for (const event of decision.value) {
      state = decider.evolve(state, event);
      events.push(event);
    }
  }
  if (events.length === 0) return [];
  return (await store.append(streamId, events, { expectedVersion: read.version, metadata })).events;
}
