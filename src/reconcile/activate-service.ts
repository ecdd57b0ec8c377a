// Scale from zero (issue 7 item 4): an edge holds a request for a service with no ready instance
// and asks for one. The count goes to 1 at once, as an autoscale decision with reason
// `activation`, on whichever control plane the edge reached: waiting for the leader's next tick
// would add up to a second to a cold start. The activation is also noted for the leader's loop
// (in the database, load-reports.ts: the leader may be another replica), so the service is not
// taken back to zero before `idle` has passed again.
import { ConflictError } from '../core/errors.js';
import { fold } from '../domain/decider.js';
import { serviceDecider } from '../domain/service.js';
import { liveServiceRejection } from '../domain/service-state.js';
import { serviceStream } from '../domain/streams.js';
import { handleCommand } from '../store/command-handler.js';
import type { EventStore } from '../store/event-store.js';
import { AUTOSCALER_ACTOR } from './autoscale-loop.js';
import type { LoadReports } from './load-reports.js';

export interface ActivationResult {
  readonly service: string;
  /** The count the service wants after the activation. */
  readonly replicas: number;
  /** false: it already wanted an instance (one is starting); nothing was appended. */
  readonly activated: boolean;
}

export async function activateService(
  store: EventStore,
  loads: LoadReports,
  service: string,
  request: { readonly edge: string; readonly queued: number; readonly now: Date },
): Promise<ActivationResult> {
  const stream = serviceStream(service);
  // Two edges may wake the same service at once: the one that loses reads the count again.
  let noted = false;
  for (let attempt = 1; ; attempt++) {
    const state = fold(serviceDecider, (await store.readStream(stream)).events);
    const rejection = liveServiceRejection(state);
    if (rejection) throw rejection;
    const s = state.scaling;
    if (s.mode === 'fixed') {
      if (s.replicas > 0) return { service, replicas: s.replicas, activated: false };
      throw new ConflictError(
        `service ${service} has fixed replicas 0, so it stays at zero; run berth scale ${service} 1, or autoscale it with min 0 (berth scale set ${service} --min 0 --max N --target concurrency=N)`,
        { service, replicas: 0 },
      );
    }
    // Once per request, not per attempt: the loop counts each noted activation as demand.
    if (!noted) await loads.activation(service, request.edge, request.queued);
    noted = true;
    if (s.desired > 0) return { service, replicas: s.desired, activated: false };
    const waiting = request.queued === 1 ? '1 request waits' : `${request.queued} requests wait`;
    try {
      await handleCommand(
        store,
        stream,
        serviceDecider,
        {
          type: 'RecordAutoscaleDecision',
          from: 0,
          to: 1,
          reason: `activation: ${waiting} at edge ${request.edge} → 1`,
          signals: { queued: request.queued, replicas: 0 },
          now: request.now,
        },
        { metadata: { actor: AUTOSCALER_ACTOR } },
      );
      return { service, replicas: 1, activated: true };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 3) throw error;
    }
  }
}
