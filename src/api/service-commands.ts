// Several commands on one service stream recorded in one append, decided from one read: what a
// deploy writes (create or change the service, the release, its rollout) lands whole or not at
// all. A writer that got there first (the reconciler) makes the append conflict; the commands are
// then built again from the fresh state. A refusal is thrown as is, and nothing is written.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../core/errors.js';
import { fold } from '../domain/decider.js';
import type { ServiceEvent } from '../domain/events.js';
import { serviceDecider, type ServiceCommand } from '../domain/service.js';
import type { ServiceState } from '../domain/service-state.js';
import { serviceStream } from '../domain/streams.js';
import type { EventStore } from '../store/event-store.js';
import type { EventMetadata, RecordedEvent } from '../store/recorded-event.js';

export interface CommandsResult {
  readonly before: ServiceState;
  readonly after: ServiceState;
  readonly events: readonly RecordedEvent[];
}

export async function runServiceCommands(
  store: EventStore,
  serviceId: string,
  build: (state: ServiceState) => readonly ServiceCommand[] | Promise<readonly ServiceCommand[]>,
  metadata: EventMetadata,
  maxAttempts = 10,
): Promise<CommandsResult> {
  const stream = serviceStream(serviceId);
  for (let attempt = 1; ; attempt++) {
    const { version, events: history } = await store.readStream(stream);
    const before = fold(serviceDecider, history);
    let state = before;
    const events: ServiceEvent[] = [];
    for (const command of await build(before)) {
      const decision = serviceDecider.decide(command, state);
      if (!decision.ok) throw decision.error;
      for (const event of decision.value as readonly ServiceEvent[]) {
        state = serviceDecider.evolve(state, event);
        events.push(event);
      }
    }
    if (events.length === 0) return { before, after: state, events: [] };
    try {
      const appended = await store.append(stream, events, { expectedVersion: version, metadata });
      return { before, after: state, events: appended.events };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= maxAttempts) throw error;
      await sleep(Math.random() * attempt * 5);
    }
  }
}
