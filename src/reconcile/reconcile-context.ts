// What a reconcile pass works with: the store it reads and appends to, observed state, the
// clock, and where it leaves its status.
import type { EventStore } from '../store/event-store.js';
import type { FleetOptions } from './build-fleet.js';
import type { ObservedState } from './observed-state.js';
import type { ReconcileStatus } from './reconcile-status.js';
import type { EventTime } from './service-view.js';

export type Clock = () => Date;

export interface ReconcileContext {
  readonly store: EventStore;
  readonly observed: ObservedState;
  readonly clock: Clock;
  readonly status: ReconcileStatus;
  /** When this control plane began hearing heartbeats (see HostPlanInput.watchingSince). */
  readonly watchingSince: Date;
  readonly heartbeatTimeout?: number;
  readonly fleet?: FleetOptions;
  /** Default: the store's stamp. Tests whose clock is not the database's map events to theirs. */
  readonly eventTime?: EventTime;
  /** Who the appended events name as their actor; default `reconciler`. */
  readonly actor?: string;
}

export interface ReconcileResult {
  /** ms after which the key wants another pass even if nothing wakes it. */
  readonly requeueAfter?: number;
  /** Events the pass appended. */
  readonly appended: number;
}

export const RECONCILER_ACTOR = 'reconciler';
