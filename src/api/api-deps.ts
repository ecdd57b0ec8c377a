// What the API's routes work with; the control plane builds these once and hands them over.
import type { Logger } from 'pino';
import type { EventStore } from '../store/event-store.js';
import type { ArtifactStore } from './artifact-store.js';
import type { AssignmentFeed } from './assignment-feed.js';
import type { ObservedFleet } from './observed-fleet.js';
import type { SecretVault } from './secret-vault.js';
import type { TokenStore } from './token-store.js';

export interface ApiDeps {
  readonly store: EventStore;
  readonly tokens: TokenStore;
  readonly fleet: ObservedFleet;
  readonly feed: AssignmentFeed;
  readonly artifacts: ArtifactStore;
  readonly vault: SecretVault;
  readonly log: Logger;
  readonly now: () => Date;
}
