// berth's autoscaler in the trace simulator: decide() every second on what the edge reports for
// that second (the service's requests per second, queued or rejected ones included), with the
// history appended after each decision exactly as the control-plane loop does it.
import { decide } from '../autoscaler/decide.js';
import { AutoscaleHistory } from '../autoscaler/history.js';
import type { AutoscalePolicy } from '../autoscaler/policy.js';
import type { LoadObservation, TraceAutoscaler } from './trace-replay.js';

export class BerthAutoscaler implements TraceAutoscaler {
  readonly name = 'berth';
  private readonly history: AutoscaleHistory;
  /** The reason of the last decision that changed the count, for debugging a replay. */
  lastReason = '';

  constructor(readonly policy: AutoscalePolicy) {
    this.history = new AutoscaleHistory(policy);
  }

  tick(o: LoadObservation): number {
    const now = o.second * 1000;
    const decision = decide(this.policy, { replicas: o.replicas, ready: o.ready, value: o.demand }, this.history, now);
    this.history.record(now, decision);
    if (decision.replicas !== o.replicas) this.lastReason = decision.reason;
    return decision.replicas;
  }
}
