// A platform for reconciler tests: an in-memory PGlite store, a clock the test moves, and fake
// agents that report the instances placed on their hosts (ready unless told otherwise). The
// store stamps events with the database's clock; the platform notes the test clock's time of
// each event and gives the reconcilers that instead (`eventTime`).
import { hostDecider, type HostCommand } from '../domain/host.js';
import { serviceDecider, type ServiceCommand } from '../domain/service.js';
import { hostStream, serviceStream } from '../domain/streams.js';
import { parseSize } from '../core/quantity.js';
import { serviceSpecSchema, type ServiceSpec } from '../spec/service.js';
import { handleCommand } from '../store/command-handler.js';
import { EventStore } from '../store/event-store.js';
import { LOG_START, type LogPosition } from '../store/log-position.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import type { InstanceRow } from '../store/projections/instances.js';
import type { SqlDriver } from '../store/sql-driver.js';
import { instancesChanged, type HostReport, type InstanceState, type ObservedHost, type ObservedInstance, type ObservedState } from './observed-state.js';
import type { ReconcileContext } from './reconcile-context.js';
import { reconcileHost } from './reconcile-host.js';
import { reconcileService } from './reconcile-service.js';
import { ReconcileStatus } from './reconcile-status.js';

/** Observed state a test writes directly, shaped as agents' heartbeats are. */
export class FakeObservedState implements ObservedState {
  readonly #hosts = new Map<string, ObservedHost>();
  readonly #listeners = new Set<(report: HostReport) => void>();

  heartbeat(hostId: string, heartbeatAt: Date, instances: readonly ObservedInstance[]): void {
    const report: HostReport = { hostId, instancesChanged: instancesChanged(this.#hosts.get(hostId)?.instances, instances) };
    this.#hosts.set(hostId, { heartbeatAt, instances });
    for (const listener of this.#listeners) listener(report);
  }

  host(hostId: string): ObservedHost | undefined {
    return this.#hosts.get(hostId);
  }

  watch(listener: (report: HostReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export type RawSpec = Partial<Record<keyof ServiceSpec, unknown>> & { run: string };

export interface TestPlatform {
  readonly store: EventStore;
  readonly observed: FakeObservedState;
  readonly status: ReconcileStatus;
  readonly ctx: ReconcileContext;
  now(): Date;
  advance(ms: number): void;
  /** Enrolls a host whose id is its name, with an agent that reports from now on. */
  enroll(name: string, o?: { memory?: string; cpu?: number; labels?: Record<string, string> }): Promise<string>;
  /** Creates the service and rolls out its first release. */
  createService(name: string, spec: RawSpec): Promise<void>;
  /** A new release of the service, rolled out. */
  deploy(name: string, spec: RawSpec): Promise<number>;
  service(name: string, command: ServiceCommand): Promise<void>;
  host(id: string, command: HostCommand): Promise<void>;
  /** What an instance's agent reports instead of `ready` (by instance id or release). */
  behave(rule: (row: InstanceRow) => InstanceState | undefined): void;
  /** The agent of a host stops (or starts again) reporting. */
  agentDown(host: string): void;
  agentUp(host: string): void;
  /** Every running agent reports its assignments. */
  report(): Promise<void>;
  /** One pass of every host and service reconciler; the events appended. */
  pass(): Promise<number>;
  /** Passes (reporting before each) until one appends nothing. */
  settle(): Promise<void>;
  /** Moves the clock, reports, settles. */
  step(ms: number): Promise<void>;
  live(service?: string): Promise<InstanceRow[]>;
  all(service?: string): Promise<InstanceRow[]>;
  eventCount(): Promise<number>;
  close(): Promise<void>;
}

export async function openTestPlatform(options: { driver?: SqlDriver } = {}): Promise<TestPlatform> {
  const store = await EventStore.open(options.driver ?? (await openPgliteDriver()));
  const observed = new FakeObservedState();
  const status = new ReconcileStatus();
  let now = new Date(Math.ceil(Date.now() / 1000) * 1000);
  const times = new Map<number, Date>();
  let stamped: LogPosition = LOG_START;
  const stamp = async (): Promise<void> => {
    for (const event of await store.readAll({ after: stamped, limit: 10_000 })) {
      times.set(event.globalPosition, now);
      stamped = { txId: event.txId, globalPosition: event.globalPosition };
    }
  };
  const ctx: ReconcileContext = {
    store,
    observed,
    clock: () => now,
    status,
    watchingSince: now,
    eventTime: (event) => times.get(event.globalPosition) ?? event.at,
  };
  const up = new Set<string>();
  const firstSeen = new Map<string, { state: InstanceState; since: number }>();
  let rule: (row: InstanceRow) => InstanceState | undefined = () => undefined;

  const rows = async (where: string, params: unknown[]): Promise<InstanceRow[]> =>
    store.driver.query<InstanceRow>(`SELECT * FROM instances WHERE ${where} ORDER BY placed_at, id`, params);
  const runService = async (name: string, command: ServiceCommand): Promise<void> => {
    await handleCommand(store, serviceStream(name), serviceDecider, command);
    await stamp();
  };

  const platform: TestPlatform = {
    store,
    observed,
    status,
    ctx,
    now: () => now,
    advance(ms) {
      now = new Date(now.getTime() + ms);
    },
    async enroll(name, o = {}) {
      const size = parseSize(o.memory ?? '4Gi');
      if (!size.ok) throw new Error(`memory ${o.memory ?? ''} is not a size`);
      const memory = size.value;
      const command: HostCommand = {
        type: 'EnrollHost',
        name,
        address: `10.0.0.${up.size + 1}`,
        region: 'default',
        capacity: { memory, cpu: (o.cpu ?? 2) * 1000 },
        labels: o.labels ?? {},
      };
      await handleCommand(store, hostStream(name), hostDecider, command);
      await stamp();
      up.add(name);
      return name;
    },
    async createService(name, raw) {
      const spec = serviceSpecSchema.parse(raw);
      await runService(name, { type: 'CreateService', name, tenant: 'default', spec });
      await platform.deploy(name, raw);
    },
    async deploy(name, raw) {
      const spec = serviceSpecSchema.parse(raw);
      const { state } = await handleCommand(store, serviceStream(name), serviceDecider, { type: 'CreateRelease', digest: 'sha256:test', spec, secretNames: [] });
      await stamp();
      const release = state.releases.at(-1)!;
      await runService(name, { type: 'StartRollout', release });
      return release;
    },
    service: runService,
    async host(id, command) {
      await handleCommand(store, hostStream(id), hostDecider, command);
      await stamp();
    },
    behave(r) {
      rule = r;
    },
    agentDown(host) {
      up.delete(host);
    },
    agentUp(host) {
      up.add(host);
    },
    async report() {
      for (const host of up) {
        const placed = await rows('host_id = $1 AND stop_requested_at IS NULL', [host]);
        const instances = placed.map((row): ObservedInstance => {
          const state = rule(row) ?? 'ready';
          const seen = firstSeen.get(row.id);
          // `since` moves only when the state changes, as an agent reports it.
          const since = seen?.state === state ? seen.since : now.getTime();
          firstSeen.set(row.id, { state, since });
          return { id: row.id, state, since };
        });
        observed.heartbeat(host, now, instances);
      }
    },
    async pass() {
      let appended = 0;
      const hosts = await store.driver.query<{ id: string }>(`SELECT id FROM hosts ORDER BY id`);
      for (const { id } of hosts) appended += (await reconcileHost(ctx, id)).appended;
      const services = await store.driver.query<{ id: string }>(`SELECT id FROM services ORDER BY id`);
      for (const { id } of services) appended += (await reconcileService(ctx, id)).appended;
      await stamp();
      return appended;
    },
    async settle() {
      for (let i = 0; i < 20; i++) {
        await platform.report();
        if ((await platform.pass()) === 0) return;
      }
      throw new Error('the reconcilers did not settle in 20 passes');
    },
    async step(ms) {
      platform.advance(ms);
      await platform.settle();
    },
    live: (service) =>
      service === undefined ? rows('stop_requested_at IS NULL', []) : rows('service_id = $1 AND stop_requested_at IS NULL', [service]),
    all: (service) => (service === undefined ? rows('true', []) : rows('service_id = $1', [service])),
    async eventCount() {
      const [row] = await store.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      return row?.n ?? 0;
    },
    close: () => store.close(),
  };
  return platform;
}
