// The control plane of `berth server` (and later `berth up`): the store, the API and what backs
// it, started in order and stopped in reverse. The reconciler, scheduler and autoscaler loops
// join here with issue 6.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import type { EventStore } from '../store/event-store.js';
import { ensureAdminToken } from './admin-token.js';
import { createApi } from './api.js';
import { ArtifactStore } from './artifact-store.js';
import { AssignmentFeed } from './assignment-feed.js';
import type { ListenAddress } from './listen-address.js';
import { ObservedFleet } from './observed-fleet.js';
import { loadSecretKey, SecretVault } from './secret-vault.js';
import { serveApi } from './serve-api.js';
import { TokenStore } from './token-store.js';

export interface ControlPlaneOptions {
  /** an open store; the control plane closes it when it stops */
  readonly store: EventStore;
  /** admin-token, secret-key, artifacts/ and api-url live here */
  readonly dataDir: string;
  readonly listen: ListenAddress;
  readonly log?: Logger;
}

export interface ControlPlane {
  readonly url: string;
  readonly adminTokenPath: string;
  /** true when this start created the admin token (first start of the data directory) */
  readonly adminTokenCreated: boolean;
  readonly store: EventStore;
  readonly tokens: TokenStore;
  readonly fleet: ObservedFleet;
  readonly vault: SecretVault;
  readonly artifacts: ArtifactStore;
  close(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { store, dataDir } = options;
  const log = options.log ?? pino({ name: 'berth-server' });
  const tokens = new TokenStore(store.driver);
  const admin = await ensureAdminToken(tokens, dataDir);
  const vault = new SecretVault(store.driver, await loadSecretKey(dataDir));
  const artifacts = new ArtifactStore(join(dataDir, 'artifacts'));
  const fleet = new ObservedFleet(store.driver);
  const feed = new AssignmentFeed(store).start();
  const app = createApi({ store, tokens, fleet, feed, artifacts, vault, log, now: () => new Date() });
  const served = await serveApi(app, options.listen).catch(async (error: unknown) => {
    await feed.close();
    throw error;
  });
  // Client commands on this machine find the API here, next to the admin token (issue 6 item 7).
  await writeFile(join(dataDir, 'api-url'), `${served.url}\n`, { mode: 0o644 });
  log.info({ url: served.url, adminToken: admin.path }, 'control plane listening');
  let closing: Promise<void> | undefined;
  return {
    url: served.url,
    adminTokenPath: admin.path,
    adminTokenCreated: admin.created,
    store,
    tokens,
    fleet,
    vault,
    artifacts,
    close: () =>
      (closing ??= (async () => {
        // Release the long-polls first, so the server's close does not wait out their timeouts.
        await feed.close();
        await served.close();
        await store.close();
      })()),
  };
}
