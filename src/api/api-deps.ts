// What the API's routes work with; the control plane builds these once and hands them over.
import type { Logger } from 'pino';
import type { ControlLoops } from '../reconcile/control-loops.js';
import type { EventStore } from '../store/event-store.js';
import type { ArtifactStore } from './artifact-store.js';
import type { AssignmentFeed } from './assignment-feed.js';
import type { LogRelay } from './log-relay.js';
import type { ObservedFleet } from './observed-fleet.js';
import type { RouteTableFeed } from './route-table-feed.js';
import type { AutoscaleAccess } from './scale-view.js';
import type { SecretVault } from './secret-vault.js';
import type { TokenStore } from './token-store.js';

export interface ApiDeps {
  readonly store: EventStore;
  readonly tokens: TokenStore;
  readonly fleet: ObservedFleet;
  readonly feed: AssignmentFeed;
  readonly artifacts: ArtifactStore;
  readonly vault: SecretVault;
  /** the edges' route table, kept current */
  readonly routes: RouteTableFeed;
  /** absent when this control plane runs no loops (tests of the API alone) */
  readonly loops?: ControlLoops;
  /** where edge load, activations and external metrics go; the leader's last autoscale evaluations */
  readonly autoscale: AutoscaleAccess;
  /** log requests between readers and agents; createApi makes one when absent */
  readonly logRelay?: LogRelay;
  /**
   * The URL other replicas reach this one at (`berth server --advertise`), for log reads they
   * forward here; undefined until the API listens, and in tests of the API alone.
   */
  readonly replicaUrl?: () => string | undefined;
  readonly log: Logger;
  readonly now: () => Date;
}
