// What the control plane observes of a service at one tick, and how it becomes demand: the total
// load in units of the target, so that desired = ceil(demand / target) for every kind of target.
import type { ScaleTarget } from '../spec/scale.js';

export interface AutoscaleSignals {
  /** Instances asked for now, starting ones included. */
  readonly replicas: number;
  /** Instances passing their readiness probe. */
  readonly ready: number;
  /**
   * The target's metric as reported: `concurrency` and `rps` are service totals from the edge
   * (all instances, queued requests included); `cpu` is the mean percent of requested CPU over
   * the ready instances (agents); `metric` is the service total pushed to the API (queue depth).
   */
  readonly value: number;
  /**
   * Requests in flight and connections open at the edges now (queued ones included), whatever
   * the target: with `min: 0`, a service with open work is not idle, though an `rps` or `cpu`
   * target may read 0 (a WebSocket or a TCP connection carrying no requests). Absent: none known.
   */
  readonly open?: number;
}

/** The service's total load in the target's unit. */
export function totalDemand(target: ScaleTarget, signals: AutoscaleSignals): number {
  const value = Math.max(0, signals.value);
  return target.type === 'cpu' ? value * signals.ready : value;
}

/** The name the reason uses for the target's metric. */
export function metricLabel(target: ScaleTarget): string {
  return target.type === 'metric' ? target.metric : target.type;
}
