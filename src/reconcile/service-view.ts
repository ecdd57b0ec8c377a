// A service as one reconcile pass sees it: the aggregate's state folded from its stream, plus
// what the aggregate does not keep but the loops need (release specs, when each instance was
// placed, when the rollout began). Appends go back with `version` as the expected version, so
// a pass that raced another writer fails with ConflictError and runs again on fresh state.
import { fold } from '../domain/decider.js';
import { serviceDecider } from '../domain/service.js';
import type { ServiceState } from '../domain/service-state.js';
import { serviceStream } from '../domain/streams.js';
import type { ServiceSpec } from '../spec/service.js';
import type { EventStore } from '../store/event-store.js';
import type { RecordedEvent } from '../store/recorded-event.js';

export interface ServiceView {
  readonly id: string;
  readonly version: number;
  readonly state: ServiceState;
  readonly releaseSpecs: ReadonlyMap<number, ServiceSpec>;
  readonly placedAt: ReadonlyMap<string, Date>;
  readonly rolloutStartedAt: Date | null;
}

/** When an event happened by the loops' clock; the store stamps events with the database's. */
export type EventTime = (event: RecordedEvent) => Date;

export const storeTime: EventTime = (event) => event.at;

export function viewService(id: string, events: readonly RecordedEvent[], timeOf: EventTime = storeTime): ServiceView {
  const releaseSpecs = new Map<number, ServiceSpec>();
  const placedAt = new Map<string, Date>();
  let rolloutStartedAt: Date | null = null;
  for (const event of events) {
    if (event.type === 'ReleaseCreated') releaseSpecs.set(event.data.version, event.data.spec);
    else if (event.type === 'InstancePlaced') placedAt.set(event.data.instance, timeOf(event));
    else if (event.type === 'RolloutStarted') rolloutStartedAt = timeOf(event);
  }
  return {
    id,
    version: events.at(-1)?.streamVersion ?? 0,
    state: fold(serviceDecider, events),
    releaseSpecs,
    placedAt,
    rolloutStartedAt,
  };
}

export async function readService(store: EventStore, id: string, timeOf: EventTime = storeTime): Promise<ServiceView> {
  const { events } = await store.readStream(serviceStream(id));
  return viewService(id, events, timeOf);
}
