// A host as one reconcile pass sees it: the aggregate folded from its stream, with when it
// enrolled and when it was last marked lost (the aggregate keeps neither).
import { fold } from '../domain/decider.js';
import { hostDecider, type HostState } from '../domain/host.js';
import { hostStream } from '../domain/streams.js';
import type { EventStore } from '../store/event-store.js';
import type { RecordedEvent } from '../store/recorded-event.js';
import { storeTime, type EventTime } from './service-view.js';

export interface HostView {
  readonly id: string;
  readonly version: number;
  readonly state: HostState;
  readonly enrolledAt: Date | null;
  /** The last heartbeat before the host was marked lost, while it is lost. */
  readonly lostLastSeen: Date | null;
}

export function viewHost(id: string, events: readonly RecordedEvent[], timeOf: EventTime = storeTime): HostView {
  let enrolledAt: Date | null = null;
  let lostLastSeen: Date | null = null;
  for (const event of events) {
    if (event.type === 'HostEnrolled') enrolledAt = timeOf(event);
    else if (event.type === 'HostLost') lostLastSeen = new Date(event.data.lastSeen);
    else if (event.type === 'HostRecovered') lostLastSeen = null;
  }
  return { id, version: events.at(-1)?.streamVersion ?? 0, state: fold(hostDecider, events), enrolledAt, lostLastSeen };
}

export async function readHost(store: EventStore, id: string, timeOf: EventTime = storeTime): Promise<HostView> {
  const { events } = await store.readStream(hostStream(id));
  return viewHost(id, events, timeOf);
}
