// The instances of one service and the rules for handing them work: balancer or affinity, soft
// and hard limits, outlier ejection, the wait queue behind a hard limit, the activator's queue
// when the service is at zero, and draining. Both proxy modes and TCP routes admit through here.
import type { Random } from '../core/random.js';
import type { Affinity } from '../spec/route.js';
import type { Balancer, CandidateView } from './balancers/balancer.js';
import { ConsistentHash } from './balancers/consistent-hash.js';
import { LeastOutstanding } from './balancers/least-outstanding.js';
import { RoundRobin } from './balancers/round-robin.js';
import { LatencyHistogram } from './latency-histogram.js';
import { DEFAULT_OUTLIER_POLICY, recordFailure, recordSuccess, type OutlierPolicy } from './outlier-detection.js';
import { RoutedInstance } from './routed-instance.js';
import { routeMode, type HttpRouteEntry, type QueueLimits, type RouteConcurrency, type RoutingMode, type TcpRouteEntry } from './route-table.js';
import { WaitQueue } from './wait-queue.js';

/** What a pick is counted as: one request in flight, or one connection pinned. */
export type LoadUnit = 'request' | 'connection';

interface Want {
  readonly key: string | undefined;
  readonly unit: LoadUnit;
}

/**
 * What a client waiting in a queue may send meanwhile, kept to go to its instance first: past it
 * the edge stops reading the client (as TCP does) and, for that client, no longer sees a hang-up.
 */
export const MAX_READ_WHILE_QUEUED = 64 * 1024;

export type Admission = { ok: true; instance: RoutedInstance } | { ok: false; status: 503; retryAfter: number; message: string };

/** Asks the control plane for an instance of a service at zero (see activator.ts). */
export type ActivateService = (service: string, queued: number) => void;

export interface ServiceConfig {
  readonly service: string;
  readonly mode: RoutingMode | 'tcp';
  readonly balancer: HttpRouteEntry['balancer'];
  readonly affinity: Affinity | undefined;
  readonly concurrency: RouteConcurrency;
  readonly queue: QueueLimits;
  readonly activator: QueueLimits | undefined;
  readonly drainGraceMs: number;
  /** TCP routes: how long a connection may stay silent both ways; undefined for HTTP routes (the proxy's timeouts apply) */
  readonly idleTimeoutMs: number | undefined;
}

export function serviceConfig(entry: HttpRouteEntry | TcpRouteEntry): ServiceConfig {
  const http = 'host' in entry;
  return {
    service: entry.service,
    mode: http ? routeMode(entry) : 'tcp',
    balancer: entry.balancer,
    affinity: entry.affinity,
    concurrency: entry.concurrency,
    queue: entry.queue,
    activator: entry.activator,
    drainGraceMs: entry.drainGraceMs,
    idleTimeoutMs: http ? undefined : entry.idleTimeoutMs,
  };
}

export interface ServiceInstancesOptions {
  readonly random: Random;
  readonly activate: ActivateService;
  readonly outlier?: OutlierPolicy;
  readonly now?: () => number;
}

export class ServiceInstances implements CandidateView<RoutedInstance> {
  items: RoutedInstance[] = [];
  /** gone from the table but still finishing work */
  readonly departed = new Set<RoutedInstance>();
  config: ServiceConfig;
  /** bumped when an instance becomes routable: pinned connections rebalance at their next request */
  epoch = 0;
  private balancer: Balancer;
  private affinityRing: ConsistentHash | undefined;
  private readonly capacityWaiters = new WaitQueue<Want, RoutedInstance>();
  private readonly activationWaiters = new WaitQueue<Want, RoutedInstance>();
  private readonly now: () => number;
  private readonly outlierPolicy: OutlierPolicy;
  /** the clock read once per pick, not once per candidate */
  private pickNow = 0;
  private except: RoutedInstance | undefined;
  // for the metrics
  inFlight = 0;
  connections = 0;
  /** integral of in-flight over time (request·ms), for the mean concurrency the autoscaler wants */
  inFlightArea = 0;
  private areaSince: number;
  private windowStart: number;
  readonly latency = new LatencyHistogram();
  rejected = 0;
  retries = 0;
  activations = 0;

  constructor(
    config: ServiceConfig,
    private readonly options: ServiceInstancesOptions,
  ) {
    this.config = config;
    this.now = options.now ?? Date.now;
    this.outlierPolicy = options.outlier ?? DEFAULT_OUTLIER_POLICY;
    this.balancer = this.makeBalancer();
    this.areaSince = performance.now();
    this.windowStart = this.areaSince;
  }

  get service(): string {
    return this.config.service;
  }

  get queued(): number {
    return this.capacityWaiters.length + this.activationWaiters.length;
  }

  // CandidateView: what a balancer may see
  id(instance: RoutedInstance): string {
    return instance.id;
  }
  eligible(instance: RoutedInstance): boolean {
    if (!instance.ready || instance.leaving || instance === this.except || instance.outlier.ejectedUntil > this.pickNow) return false;
    const hard = this.config.concurrency.hard;
    return hard === undefined || this.limited(instance) < hard;
  }
  underSoft(instance: RoutedInstance): boolean {
    const soft = this.config.concurrency.soft;
    return soft === undefined || this.limited(instance) < soft;
  }
  load(instance: RoutedInstance): number {
    return this.config.mode === 'per-request' ? instance.inFlight : instance.connections;
  }
  private limited(instance: RoutedInstance): number {
    return this.config.concurrency.type === 'connections' ? instance.connections : instance.inFlight;
  }

  /**
   * The instance for new work, counted against it (a request in per-request mode, a connection
   * otherwise), or undefined when it has to wait. `except` is an instance that just failed.
   */
  take(key?: string, except?: RoutedInstance, unit: LoadUnit = this.defaultUnit): RoutedInstance | undefined {
    this.pickNow = this.now();
    this.except = except;
    const instance = key !== undefined && this.affinityRing !== undefined ? this.affinityRing.pick(this, key) : this.balancer.pick(this);
    this.except = undefined;
    if (instance === undefined) return undefined;
    if (unit === 'request') this.begin(instance);
    else this.attach(instance);
    return instance;
  }

  /** Per-request routes count requests; per-connection and TCP routes count connections. */
  get defaultUnit(): LoadUnit {
    return this.config.mode === 'per-request' ? 'request' : 'connection';
  }

  /**
   * Takes an instance, or waits in the right queue for one (already counted either way).
   * `leaving`: the waiter leaves its queue when it aborts (its client hung up), freeing its place.
   */
  admit(key?: string, unit: LoadUnit = this.defaultUnit, leaving?: AbortSignal): Promise<Admission> | Admission {
    const instance = this.take(key, undefined, unit);
    if (instance !== undefined) return { ok: true, instance };
    return this.wait({ key, unit }, leaving);
  }

  private async wait(want: Want, leaving: AbortSignal | undefined): Promise<Admission> {
    const service = this.config.service;
    const serving = this.items.some((i) => i.ready && !i.leaving);
    if (!serving && this.config.activator !== undefined) {
      this.activations++;
      const pending = this.activationWaiters.wait(want, this.config.activator, leaving);
      this.options.activate(service, this.activationWaiters.length);
      const outcome = await pending;
      if (outcome.ok) return { ok: true, instance: outcome.value };
      // a client that left was not turned away: nobody hears the answer, and it is no rejection
      if (outcome.reason !== 'left') this.rejected++;
      return { ok: false, status: 503, retryAfter: 5, message: `service ${service} is starting from zero and no instance was ready in time; retry shortly` };
    }
    if (!serving) {
      this.rejected++;
      return { ok: false, status: 503, retryAfter: 5, message: `service ${service} has no ready instance` };
    }
    const outcome = await this.capacityWaiters.wait(want, this.config.queue, leaving);
    if (outcome.ok) return { ok: true, instance: outcome.value };
    if (outcome.reason !== 'left') this.rejected++;
    const why = outcome.reason === 'full' ? 'its queue is full' : outcome.reason === 'left' ? 'the client left while queued' : 'no instance freed up in time';
    return { ok: false, status: 503, retryAfter: 1, message: `service ${service} is at its concurrency limit and ${why}; retry shortly` };
  }

  /** Capacity may have appeared: hand it to waiters, oldest first (counted as it is handed out). */
  wake(): void {
    if (this.activationWaiters.length > 0) this.activationWaiters.serve((want) => this.take(want.key, undefined, want.unit));
    if (this.capacityWaiters.length > 0) this.capacityWaiters.serve((want) => this.take(want.key, undefined, want.unit));
  }

  /** One more request on the instance (per-request mode counts it in `take`). */
  begin(instance: RoutedInstance, now = performance.now()): void {
    this.accrue(now);
    instance.inFlight++;
    this.inFlight++;
  }

  /** A request is done; `status` is what the client got (0: cut off without an answer). */
  end(instance: RoutedInstance, status: number, seconds: number, now = performance.now()): void {
    this.accrue(now);
    instance.inFlight--;
    this.inFlight--;
    if (status > 0) {
      instance.countStatus(status);
      const bucket = LatencyHistogram.bucket(seconds);
      this.latency.observe(seconds, bucket);
      instance.latency.observe(seconds, bucket);
    }
    if (status >= 500) this.failed(instance);
    else if (status > 0) recordSuccess(instance.outlier);
    this.settled(instance);
  }

  attach(instance: RoutedInstance): void {
    instance.connections++;
    instance.connectionsTotal++;
    this.connections++;
  }

  detach(instance: RoutedInstance): void {
    instance.connections--;
    this.connections--;
    this.settled(instance);
  }

  /** A connection to the instance could not be made or broke before an answer. */
  failed(instance: RoutedInstance): void {
    const now = this.now();
    const ejectedNow = this.items.filter((i) => i.outlier.ejectedUntil > now).length;
    recordFailure(instance.outlier, this.outlierPolicy, now, ejectedNow, this.items.length);
  }

  private settled(instance: RoutedInstance): void {
    if (instance.leaving && instance.drained) this.finishDrain(instance);
    else if (this.capacityWaiters.length + this.activationWaiters.length > 0) this.wake();
  }

  private finishDrain(instance: RoutedInstance): void {
    // nothing is in flight: what is left are idle pooled sockets and connections letting go
    // right now (the answer that drained it may be in the middle of being written)
    instance.releaseAll();
    this.departed.delete(instance);
  }

  /** `now` is on performance.now()'s clock, which the proxies read anyway for latency. */
  private accrue(now: number): void {
    this.inFlightArea += this.inFlight * (now - this.areaSince);
    this.areaSince = now;
  }

  /** The time-weighted mean of in-flight requests since the last call. */
  takeMeanInFlight(): number {
    this.accrue(performance.now());
    const elapsed = this.areaSince - this.windowStart;
    const mean = elapsed > 0 ? this.inFlightArea / elapsed : this.inFlight;
    this.inFlightArea = 0;
    this.windowStart = this.areaSince;
    return mean;
  }

  /** Applies a new table entry: same ids keep their counters; missing ones start leaving. */
  update(config: ServiceConfig, entries: readonly HttpRouteEntry['instances'][number][]): void {
    const rebalancer = config.balancer !== this.config.balancer || (config.affinity === undefined) !== (this.config.affinity === undefined);
    this.config = config;
    if (rebalancer) this.balancer = this.makeBalancer();
    const now = this.now();
    // before instances are updated in place below
    const routable = (list: RoutedInstance[]) => new Set(list.filter((i) => i.ready && !i.leaving).map((i) => i.id));
    const before = routable(this.items);
    const previous = new Map(this.items.map((i) => [i.id, i]));
    const next: RoutedInstance[] = [];
    for (const entry of entries) {
      const known = previous.get(entry.id);
      if (known !== undefined && known.sameEndpoint(entry)) {
        previous.delete(entry.id);
        known.ready = entry.ready;
        if (entry.draining && !known.leaving) known.leave(now + config.drainGraceMs);
        // a drain can be called off (a rollout reverted) while the instance still runs
        if (!entry.draining && known.leaving) {
          known.leaving = false;
          known.graceEndsAt = Infinity;
        }
        next.push(known);
      } else {
        const instance = new RoutedInstance(entry);
        if (entry.draining) instance.graceEndsAt = now + config.drainGraceMs;
        next.push(instance);
      }
    }
    for (const gone of previous.values()) {
      gone.leave(now + config.drainGraceMs);
      if (gone.drained) this.finishDrain(gone);
      else this.departed.add(gone);
    }
    for (const instance of next) if (instance.leaving && instance.drained) instance.releaseAll();
    if ([...routable(next)].some((id) => !before.has(id))) this.epoch++;
    this.items = next;
    this.wake();
  }

  /** Once a second: cut what outlived its grace, retry waiters after ejections expire. */
  tick(): void {
    const now = this.now();
    for (const instance of [...this.departed, ...this.items]) {
      if (instance.leaving && instance.graceEndsAt <= now) {
        instance.cutAll();
        this.departed.delete(instance);
      }
    }
    this.wake();
    // held requests keep asking (throttled by the activator) in case a start failed
    if (this.activationWaiters.length > 0) this.options.activate(this.config.service, this.activationWaiters.length);
  }

  /** Every instance the edge still knows, leaving ones included (for the metrics). */
  all(): RoutedInstance[] {
    return [...this.items, ...this.departed];
  }

  close(): void {
    this.capacityWaiters.close();
    this.activationWaiters.close();
    for (const instance of this.all()) instance.cutAll();
  }

  private makeBalancer(): Balancer {
    this.affinityRing = this.config.affinity === undefined ? undefined : new ConsistentHash();
    return this.config.balancer === 'round-robin' ? new RoundRobin() : new LeastOutstanding(this.options.random);
  }
}
