// The edge's route table (docs/edge.md, "The control-plane contract"), kept current by the
// control plane: rebuilt whenever an event or an agent's report may have changed what is routed,
// and versioned only when the document really changed, so edges' long-polls wake for news only.
// Built from the projections (services, placements, host addresses) and observed state (ready,
// the port the agent bound); an instance asked to stop stays listed as `draining` while it runs.
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_ACTIVATOR_QUEUE, DEFAULT_QUEUE, type RouteTableDocument } from '../edge/route-table.js';
import type { RouteQueue } from '../spec/route.js';
import type { ScaleSpec } from '../spec/scale.js';
import type { ServiceSpec } from '../spec/service.js';
import type { EventStore } from '../store/event-store.js';
import { occupiesHost } from '../reconcile/observed-state.js';
import { followLog } from '../store/follow-log.js';
import { waitForNews } from './long-poll.js';
import type { ObservedFleet } from './observed-fleet.js';

type Entry = NonNullable<RouteTableDocument['routes']>[number];
type InstanceEntry = NonNullable<Entry['instances']>[number];

interface ServiceRow {
  id: string;
  spec: ServiceSpec;
  /** the scale spec in force: the release's, or a later `berth scale set` */
  scale: ScaleSpec | null;
}

interface PlacementRow {
  id: string;
  service_id: string;
  host_id: string;
  address: string;
  host_status: string;
  stop_requested: boolean;
}

const SERVICES = `SELECT id, spec, scale FROM services WHERE status = 'active' AND (spec ? 'http' OR spec ? 'tcp') ORDER BY id`;

// Placements asked to stop long ago are gone from their hosts; the observed state decides the rest.
const PLACEMENTS = `SELECT i.id, i.service_id, i.host_id, h.address, h.status AS host_status, i.stop_requested_at IS NOT NULL AS stop_requested
  FROM instances i JOIN hosts h ON h.id = i.host_id
  WHERE i.stop_requested_at IS NULL OR i.stop_requested_at > now() - interval '1 day'
  ORDER BY i.id`;

export async function buildRouteTable(store: EventStore, fleet: Pick<ObservedFleet, 'host'>): Promise<Omit<RouteTableDocument, 'version'>> {
  const services = await store.driver.query<ServiceRow>(SERVICES);
  const placements = await store.driver.query<PlacementRow>(PLACEMENTS);
  const byService = new Map<string, InstanceEntry[]>();
  for (const p of placements) {
    // A lost host's instances are unreachable; a decommissioned one has none left.
    if (p.host_status !== 'active') continue;
    const observed = fleet.host(p.host_id)?.instances.find((i) => i.id === p.id);
    if (observed === undefined || !occupiesHost(observed) || observed.port === undefined) continue;
    const list = byService.get(p.service_id) ?? [];
    list.push({ id: p.id, address: p.address, port: observed.port, ready: observed.state === 'ready', draining: p.stop_requested });
    byService.set(p.service_id, list);
  }
  const routes: Entry[] = [];
  const tcp: NonNullable<RouteTableDocument['tcp']> = [];
  for (const { id, spec, scale } of services) {
    const instances = byService.get(id) ?? [];
    if (spec.http) {
      const { host, path, mode, balancer, affinity, concurrency, queue } = spec.http;
      routes.push({
        host,
        pathPrefix: path,
        service: id,
        // absent from berth.yaml: absent here too, and the edge's defaults apply (route-table.ts)
        ...(mode === undefined ? {} : { mode }),
        ...(balancer === undefined ? {} : { balancer }),
        ...(affinity === undefined ? {} : { affinity }),
        concurrency,
        ...(queue === undefined ? {} : { queue: queueLimits(queue) }),
        // Scale to zero: the edge holds the first requests while an instance starts. The scale in
        // force, not the release's: `berth scale set --min 0` changes it without a release.
        ...(scale?.min === 0 ? { activator: DEFAULT_ACTIVATOR_QUEUE } : {}),
        drainGraceMs: spec.stop.grace,
        instances,
      });
    } else if (spec.tcp) {
      const { port, idleTimeout, balancer, affinity, concurrency, queue, proxyProtocol } = spec.tcp;
      tcp.push({
        port,
        service: id,
        ...(balancer === undefined ? {} : { balancer }),
        ...(affinity === undefined ? {} : { affinity }),
        concurrency: { type: 'connections', ...concurrency },
        ...(queue === undefined ? {} : { queue: queueLimits(queue) }),
        ...(idleTimeout === undefined ? {} : { idleTimeoutMs: idleTimeout }),
        ...(proxyProtocol === undefined ? {} : { proxyProtocol }),
        // a connection to a service at zero is held, unread, while an instance starts (as requests are)
        ...(scale?.min === 0 ? { activator: DEFAULT_ACTIVATOR_QUEUE } : {}),
        drainGraceMs: spec.stop.grace,
        instances,
      });
    }
  }
  return { routes, tcp };
}

/** berth.yaml's `http.queue` or `tcp.queue`, the half it leaves out taken from the edge's default. */
function queueLimits(queue: RouteQueue): { limit: number; timeoutMs: number } {
  return { limit: queue.limit ?? DEFAULT_QUEUE.limit, timeoutMs: queue.timeout ?? DEFAULT_QUEUE.timeoutMs };
}

export class RouteTableFeed {
  #table: RouteTableDocument = { version: 0, routes: [], tcp: [] };
  #fingerprint = '';
  #built = false;
  readonly #waiters = new Set<() => void>();
  readonly #stop = new AbortController();
  #dirty = false;
  #building: Promise<void> | undefined;
  #following: Promise<void> | undefined;
  #unwatch: (() => void) | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly fleet: ObservedFleet,
    private readonly log: (error: unknown) => void = () => undefined,
  ) {}

  start(): this {
    // Most heartbeats repeat what the host said last time (usage aside): nothing to rebuild.
    this.#unwatch = this.fleet.watch(({ instancesChanged }) => {
      if (instancesChanged) this.refresh();
    });
    this.#following ??= this.#follow();
    this.refresh();
    return this;
  }

  get current(): RouteTableDocument {
    return this.#table;
  }

  /** Asks for a rebuild; rebuilds asked for during one run once after it. */
  refresh(): void {
    this.#dirty = true;
    this.#building ??= this.#rebuild().finally(() => (this.#building = undefined));
  }

  /** The current table once it has been built and its version differs from `after`, or after `timeoutMs`. */
  async changed(after: number, timeoutMs: number, signal?: AbortSignal): Promise<RouteTableDocument | undefined> {
    const news = (): boolean => this.#built && this.#table.version !== after;
    if (!news() && !signal?.aborted) {
      await waitForNews(this.#waiters, news, timeoutMs, [signal, this.#stop.signal]);
    }
    return news() ? this.#table : undefined;
  }

  async close(): Promise<void> {
    this.#unwatch?.();
    this.#stop.abort();
    await this.#following;
    await this.#building;
  }

  async #rebuild(): Promise<void> {
    while (this.#dirty && !this.#stop.signal.aborted) {
      this.#dirty = false;
      try {
        const body = await buildRouteTable(this.store, this.fleet);
        const fingerprint = JSON.stringify(body);
        if (this.#built && fingerprint === this.#fingerprint) continue;
        // Time-based, so a restarted control plane's versions still move forward for its edges.
        const version = Math.max(this.#table.version + 1, Date.now());
        this.#table = { version, ...body };
        this.#fingerprint = fingerprint;
        this.#built = true;
        for (const wake of [...this.#waiters]) wake();
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        this.log(error);
        // The database went away for a moment: the next change or report tries again.
        await sleep(500, undefined, { signal: this.#stop.signal }).catch(() => undefined);
        this.#dirty = true;
      }
    }
  }

  #follow(): Promise<void> {
    return followLog(this.store, this.#stop.signal, (event) => {
      if (event.streamId.startsWith('service-') || event.streamId.startsWith('host-')) this.refresh();
    });
  }
}
