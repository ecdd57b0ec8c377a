// The control plane of `berth server` and `berth up`: the store, the control loops (reconciler and
// scheduler, on the leader), the API and what backs it, started in order and stopped in reverse.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { AutoscaleLoop, type AutoscaleLoopOptions } from '../reconcile/autoscale-loop.js';
import { startControlLoops, type ControlLoops, type ControlLoopsOptions } from '../reconcile/control-loops.js';
import { LoadReports } from '../reconcile/load-reports.js';
import type { EventStore } from '../store/event-store.js';
import { ensureAdminToken } from './admin-token.js';
import { createApi } from './api.js';
import { ArtifactStore } from './artifact-store.js';
import { AssignmentFeed } from './assignment-feed.js';
import type { ListenAddress } from './listen-address.js';
import { ObservedFleet } from './observed-fleet.js';
import { RouteTableFeed } from './route-table-feed.js';
import { loadSecretKey, SecretVault } from './secret-vault.js';
import { serveApi, type ServedApi } from './serve-api.js';
import { TokenStore } from './token-store.js';

export interface ControlPlaneOptions {
  /** an open store; the control plane closes it when it stops */
  readonly store: EventStore;
  /** admin-token, secret-key, artifacts/ and api-url live here */
  readonly dataDir: string;
  readonly listen: ListenAddress;
  /** the URL other replicas reach this one at (`--advertise`); default: advertisedUrl of where it listens */
  readonly advertiseUrl?: string;
  readonly log?: Logger;
  /** false: no control loops (tests that write placements themselves); an object tunes them */
  readonly controlLoops?: false | Partial<Omit<ControlLoopsOptions, 'store' | 'observed' | 'signal'>>;
  /** Tick and tuning of the autoscaler (runs with the control loops, on the leader). */
  readonly autoscale?: Partial<Pick<AutoscaleLoopOptions, 'tickMs' | 'tuning'>>;
}

export interface ControlPlane {
  readonly url: string;
  /** the URL other replicas reach this one at */
  readonly advertiseUrl: string;
  readonly adminTokenPath: string;
  /** true when this start created the admin token (first start of the data directory) */
  readonly adminTokenCreated: boolean;
  readonly store: EventStore;
  readonly tokens: TokenStore;
  readonly fleet: ObservedFleet;
  readonly vault: SecretVault;
  readonly artifacts: ArtifactStore;
  readonly routes: RouteTableFeed;
  /** undefined when started with `controlLoops: false` */
  readonly loops: ControlLoops | undefined;
  readonly autoscaler: AutoscaleLoop;
  close(): Promise<void>;
}

/**
 * Where other replicas reach a control plane listening at `listeningUrl` (http://host:port, as
 * serveApi gives it): that URL, or, listening on every address (0.0.0.0, ::), this machine's name
 * with the port, since no other machine reaches 0.0.0.0.
 */
export function advertisedUrl(listeningUrl: string, machine = hostname()): string {
  const url = new URL(listeningUrl);
  if (isEveryAddress(url.hostname)) url.hostname = machine;
  return url.origin;
}

/** Whether a URL's hostname is the wildcard address (0.0.0.0, [::]), which no other machine reaches. */
export const isEveryAddress = (hostname: string): boolean => hostname === '0.0.0.0' || hostname === '[::]';

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { store, dataDir } = options;
  const log = options.log ?? pino({ name: 'berth-server' });
  const tokens = new TokenStore(store.driver);
  const admin = await ensureAdminToken(tokens, dataDir);
  const vault = new SecretVault(store.driver, await loadSecretKey(dataDir));
  const artifacts = new ArtifactStore(join(dataDir, 'artifacts'));
  // Also reads the reports other replicas took, from the tables (observed-fleet.ts).
  const fleet = new ObservedFleet(store.driver, { log: (error) => log.warn({ err: error }, 'observed state: reading the tables failed; retrying') }).start();
  const feed = new AssignmentFeed(store).start();
  const routes = new RouteTableFeed(store, fleet, (error) => log.warn({ err: error }, 'route table: rebuild failed; retrying')).start();
  const autoscaler = new AutoscaleLoop({ ...options.autoscale, store, observed: fleet, loads: new LoadReports(store.driver), log });
  const stopLoops = new AbortController();
  // the loops lead only once the API listens and says where: a server that cannot serve never acts
  let ready: { start(): void; never(): void } = { start: () => undefined, never: () => undefined };
  const listening = new Promise<void>((start, never) => (ready = { start, never }));
  // (without control loops nobody waits on it)
  listening.catch(() => undefined);
  const loops =
    options.controlLoops === false
      ? undefined
      : startControlLoops({ actor: 'reconciler', log, ...options.controlLoops, alongside: [autoscaler], store, observed: fleet, signal: stopLoops.signal, startAfter: listening });
  const stopBackground = async (): Promise<void> => {
    stopLoops.abort();
    await loops?.stopped;
    await routes.close();
    await feed.close();
    await fleet.close();
  };
  // known once the API listens (the port may be 0 until then); log reads forwarded here need it
  let advertiseUrl: string | undefined;
  const replicaUrl = (): string | undefined => advertiseUrl;
  const app = createApi({ store, tokens, fleet, feed, artifacts, vault, routes, ...(loops ? { loops } : {}), autoscale: autoscaler, replicaUrl, log, now: () => new Date() });
  let served: ServedApi | undefined;
  try {
    served = await serveApi(app, options.listen);
    advertiseUrl = options.advertiseUrl ?? advertisedUrl(served.url);
    // Client commands on this machine find the API here, next to the admin token (issue 6 item 7).
    await writeFile(join(dataDir, 'api-url'), `${served.url}\n`, { mode: 0o644 });
  } catch (error) {
    ready.never();
    await stopBackground();
    await served?.close();
    throw error;
  }
  ready.start();
  log.info({ url: served.url, advertiseUrl, adminToken: admin.path }, 'control plane listening');
  let closing: Promise<void> | undefined;
  return {
    url: served.url,
    advertiseUrl,
    adminTokenPath: admin.path,
    adminTokenCreated: admin.created,
    store,
    tokens,
    fleet,
    vault,
    artifacts,
    routes,
    loops,
    autoscaler,
    close: () =>
      (closing ??= (async () => {
        // The loops first (no pass half-done against a closing store), then the long-polls, so
        // the server's close does not wait out their timeouts.
        await stopBackground();
        await served.close();
        await store.close();
      })()),
  };
}
