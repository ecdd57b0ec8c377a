// Where a service stands after a reconcile pass, in the words `berth status` and `berth explain`
// use: desired, placed, ready, what could not be placed and why, how its rollout goes.
import type { Reason } from '../scheduler/index.js';

export interface UnplacedReplica {
  readonly replica: number;
  /** The scheduler's reasons, in pipeline order. */
  readonly reasons: readonly Reason[];
}

export interface RolloutProgress {
  readonly release: number;
  readonly previous: number | null;
  /** Instances of the release ready for minHealthy. */
  readonly healthy: number;
  readonly desired: number;
  /** Instances of other releases still placed. */
  readonly outdated: number;
  /** Set when the rollout stopped: which instance missed its deadline, and what berth did. */
  readonly failure?: string;
}

export interface ServiceStatus {
  readonly service: string;
  readonly desired: number;
  /** The release instances are placed with; null before the first release. */
  readonly release: number | null;
  /** Placements not asked to stop, after this pass. */
  readonly placed: number;
  /** Of the placements read, how many their agents report ready. */
  readonly ready: number;
  readonly unplaceable: readonly UnplacedReplica[];
  readonly rollout: RolloutProgress | null;
  /** Why the service does not converge, for people; empty when nothing is wrong. */
  readonly messages: readonly string[];
  readonly at: string;
}
