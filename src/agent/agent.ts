// The host agent (DESIGN §7, issue 4): enrolls once and keeps its credential, heartbeats usage
// and instance states, long-polls the host's complete assignment set and converges the driver to
// it. Level-based: every pass compares the whole desired set with what the driver runs, so a lost
// message, a restart or an adopted instance all end in the same place. When the control plane is
// away the instances keep running; the agent retries with backoff.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Assignment, AssignmentSet, HeartbeatRequest, HostUsage, ObservedInstance } from '../api/protocol/agent-protocol.js';
import { BerthClient } from '../client/berth-client.js';
import { BerthError, UnauthorizedError } from '../core/errors.js';
import { readCredential, writeCredential, type AgentCredential } from './agent-credential.js';
import { ArtifactCache } from './artifact-cache.js';
import type { Driver, InstanceStats, InstanceStatus } from './driver.js';
import { probeHostMachine } from './host-machine.js';
import { HostUsageMeter } from './host-usage.js';
import { LogResponder } from './log-responder.js';
import type { InstanceSpec } from './instance-spec.js';
import { PortAllocator } from './port-allocator.js';
import { EdgeDrainWatch } from './edge-drain-watch.js';
import { stopVerdict, type LeavingInstance } from './stop-verdict.js';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  /** the control plane's URL (`--join`) */
  readonly controlPlane: string;
  /** needed only for the first start; later starts reuse the credential in dataDir */
  readonly joinToken?: string;
  readonly dataDir: string;
  readonly driver: Driver;
  readonly log: Logger;
  readonly name?: string;
  /** where the edge reaches this host's instances */
  readonly address?: string;
  readonly region?: string;
  readonly labels?: Record<string, string>;
  /** bytes kept for the system and the agent, never placed */
  readonly reservedMemory?: number;
  /** ms between heartbeats when nothing changes */
  readonly heartbeatInterval?: number;
  /** ms between convergence passes without a new assignment set (catches crashes and failed starts) */
  readonly resyncInterval?: number;
  /** ms a stopped instance that is no longer assigned keeps its logs before it is removed */
  readonly removeStoppedAfter?: number;
  /** ms a release archive stays cached after its last instance */
  readonly keepUnusedReleases?: number;
  /**
   * The least ms between an instance leaving the assignment set and its stop signal: the edges see
   * it draining in their next route table meanwhile (why: stop-verdict.ts). After it, the signal
   * waits for every live edge to report the instance drained, or for its `stop.grace` to end.
   */
  readonly minStopDelay?: number;
  /** long-poll hold, ms */
  readonly pollWait?: number;
  /** called with each assignment set as it arrives, before convergence (benchmarks, tracing) */
  readonly onAssignments?: (set: AssignmentSet) => void;
}

export const DEFAULT_MIN_STOP_DELAY_MS = 2_000;

/** berth.yaml's default `stop.grace`: bounds the drain of an instance whose own the agent never saw (adopted after its stop was asked). */
const DEFAULT_GRACE_MS = 30_000;

/** ms a state change waits for others before the heartbeat that reports it */
const CHANGE_BATCH_MS = 50;

const RUNNING: ReadonlySet<InstanceStatus['state']> = new Set(['starting', 'ready', 'unhealthy', 'restarting']);

export class Agent {
  readonly #stop = new AbortController();
  readonly #ports = new PortAllocator();
  readonly #usage: HostUsageMeter;
  readonly #artifacts: ArtifactCache;
  /** what each instance is doing on the agent's behalf (start or stop), so passes never double it */
  readonly #ops = new Map<string, Promise<void>>();
  /** instances this agent has started or handed their secrets to (adopted ones lack them until then) */
  readonly #handed = new Set<string>();
  /** each assigned instance's `stop.grace`, kept after it leaves the set: it bounds the drain */
  readonly #graces = new Map<string, number>();
  readonly #drains: EdgeDrainWatch;
  /** assignments the agent could not start, reported as exited with the reason */
  readonly #failed = new Map<string, { message: string; at: number }>();
  readonly #loops: Promise<void>[] = [];
  #desired: AssignmentSet | undefined;
  #converging = false;
  #convergeAgain = false;
  /** an instance changed state since the last heartbeat was sent */
  #changed = false;
  /** usage of each instance as of the last periodic heartbeat; heartbeats for state changes reuse it */
  readonly #stats = new Map<string, InstanceStats>();
  #hostUsage: HostUsage | undefined;
  #wakeHeartbeat: (() => void) | undefined;
  #unwatch: (() => void) | undefined;

  private constructor(
    private readonly options: AgentOptions,
    private readonly client: BerthClient,
    readonly credential: AgentCredential,
  ) {
    this.#usage = new HostUsageMeter(options.dataDir);
    this.#artifacts = new ArtifactCache(join(options.dataDir, 'releases'), (digest, signal) => client.agentArtifact(digest, signal));
    for (const status of options.driver.list()) if (status.port > 0) this.#ports.reserve(status.port);
    this.#drains = new EdgeDrainWatch(
      (instances, signal) => client.drains(instances, signal),
      this.#stop.signal,
      (error, recovered) => {
        if (recovered) options.log.info('the control plane answers drain questions again');
        else options.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cannot ask the control plane whether the edges are done with stopping instances; they stop at their grace end');
      },
    );
  }

  get hostId(): string {
    return this.credential.hostId;
  }

  /** Enrolls (or reuses the stored credential), then runs until close(). */
  static async start(options: AgentOptions): Promise<Agent> {
    const credential = (await readCredential(options.dataDir)) ?? (await Agent.#enroll(options));
    const client = new BerthClient({ url: options.controlPlane, token: credential.token });
    const agent = new Agent(options, client, credential);
    agent.#run();
    return agent;
  }

  /** Stops heartbeats and convergence; the instances keep running for the next agent to adopt. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#unwatch?.();
    this.#wakeHeartbeat?.();
    await Promise.allSettled([...this.#loops, ...this.#ops.values()]);
  }

  static async #enroll(options: AgentOptions): Promise<AgentCredential> {
    const { joinToken, log } = options;
    if (joinToken === undefined) {
      throw new UnauthorizedError(`${options.dataDir} holds no host credential; pass --token (or BERTH_JOIN_TOKEN) with a join token from POST /v1/join-tokens to enroll`);
    }
    const client = new BerthClient({ url: options.controlPlane, token: joinToken });
    const machine = await probeHostMachine(options.dataDir, options.reservedMemory ?? 0, options.driver);
    const backoff = new ReconnectBackoff();
    for (;;) {
      try {
        const enrolled = await client.enroll({
          name: options.name ?? hostname(),
          address: options.address ?? '127.0.0.1',
          region: options.region ?? 'default',
          labels: options.labels ?? {},
          machine,
        });
        const credential = { url: options.controlPlane, hostId: enrolled.hostId, token: enrolled.token };
        await writeCredential(options.dataDir, credential);
        log.info({ hostId: enrolled.hostId, memoryEnforcement: machine.memoryEnforcement }, 'enrolled');
        return credential;
      } catch (error) {
        // A rejected token or bad capacity will not fix itself; an absent control plane might.
        if (!(error instanceof BerthError) || error.code !== 'unavailable') throw error;
        const wait = backoff.next();
        log.warn({ err: error.message, retryInMs: wait }, 'control plane unreachable; retrying enrollment');
        await sleep(wait);
      }
    }
  }

  #run(): void {
    const signal = this.#stop.signal;
    const { driver } = this.options;
    // A state change (ready, crashed) is news for the rollout and the edge: report it promptly.
    this.#unwatch = driver.watch(() => this.#reportSoon());
    this.#loops.push(this.#pollAssignments(signal), this.#heartbeats(signal), this.#resync(signal));
    this.#loops.push(new LogResponder(this.client, driver, this.options.log, this.options.pollWait).run(signal));
  }

  async #pollAssignments(signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff();
    let after: string | undefined;
    while (!signal.aborted) {
      try {
        const set = await this.client.assignments({ ...(after === undefined ? {} : { after }), wait: this.options.pollWait ?? 25_000, signal });
        if (backoff.failures > 0) this.options.log.info({ hostId: this.hostId }, 'control plane reachable again');
        backoff.reset();
        after = set.version;
        this.options.onAssignments?.(set);
        this.#desired = set;
        this.#converge();
      } catch (error) {
        if (signal.aborted) return;
        await this.#pause(backoff, error, 'assignments', signal);
      }
    }
  }

  async #heartbeats(signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff();
    const interval = this.options.heartbeatInterval ?? 5_000;
    let periodic = true;
    while (!signal.aborted) {
      this.#changed = false;
      try {
        await this.client.heartbeat(await this.#report(periodic), signal);
        backoff.reset();
      } catch (error) {
        if (signal.aborted) return;
        await this.#pause(backoff, error, 'heartbeat', signal);
        continue;
      }
      // Until the interval passes or an instance changes state (also while the last heartbeat was
      // on its way); the changes of a burst (50 instances becoming ready) share a heartbeat.
      periodic = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(!this.#changed), this.#changed ? CHANGE_BATCH_MS : interval);
        this.#wakeHeartbeat = () => {
          clearTimeout(timer);
          setTimeout(() => resolve(false), CHANGE_BATCH_MS);
        };
      });
      this.#wakeHeartbeat = undefined;
    }
  }

  #reportSoon(): void {
    this.#changed = true;
    this.#wakeHeartbeat?.();
  }

  async #resync(signal: AbortSignal): Promise<void> {
    const every = this.options.resyncInterval ?? 10_000;
    while (!signal.aborted) {
      await sleep(every, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      this.#converge();
      await this.#artifacts.collect(this.options.keepUnusedReleases ?? 10 * 60_000).catch(() => undefined);
    }
  }

  async #pause(backoff: ReconnectBackoff, error: unknown, what: string, signal: AbortSignal): Promise<void> {
    const wait = backoff.next();
    const message = error instanceof Error ? error.message : String(error);
    // One warning per outage, not one per retry.
    if (backoff.failures === 1) this.options.log.warn({ err: message, retryInMs: wait }, `${what} failed; instances keep running, retrying with backoff`);
    if (error instanceof UnauthorizedError && backoff.failures === 1) {
      this.options.log.error({ hostId: this.hostId }, 'the control plane rejects this host credential (revoked, or the host was decommissioned); remove agent-credential.json from the data directory to enroll again');
    }
    await sleep(wait, undefined, { signal }).catch(() => undefined);
  }

  /**
   * The heartbeat body. Usage is sampled on the periodic heartbeat only: during a burst of state
   * changes (50 instances starting) it would be read again and again for nothing.
   */
  async #report(sampleUsage: boolean): Promise<HeartbeatRequest> {
    const { driver } = this.options;
    const statuses = driver.list();
    if (sampleUsage || this.#hostUsage === undefined) this.#hostUsage = await this.#usage.sample();
    if (sampleUsage) {
      this.#stats.clear();
      const sampled = await Promise.all(statuses.map((s) => (RUNNING.has(s.state) ? driver.stats(s.id).catch(() => undefined) : undefined)));
      for (const stat of sampled) if (stat) this.#stats.set(stat.id, stat);
    }
    const instances: ObservedInstance[] = statuses.map((s) => {
      const stat = RUNNING.has(s.state) ? this.#stats.get(s.id) : undefined;
      return {
        id: s.id,
        state: s.state,
        ...(s.port > 0 ? { port: s.port } : {}),
        ...(s.pid === undefined ? {} : { pid: s.pid }),
        restarts: s.restarts,
        since: s.since,
        ...(s.lastExit ? { lastExit: s.lastExit } : {}),
        ...(s.message === undefined ? {} : { message: s.message.slice(0, 4096) }),
        ...(stat ? { rssBytes: stat.rssBytes, cpuMillicores: stat.cpuMillicores } : {}),
        adopted: s.adopted,
      };
    });
    for (const [id, failure] of this.#failed) {
      if (!statuses.some((s) => s.id === id)) instances.push({ id, state: 'exited', restarts: 0, since: failure.at, message: failure.message });
    }
    return {
      usage: this.#hostUsage,
      instances,
      agent: {
        version: AGENT_VERSION,
        ...(this.#desired ? { assignmentVersion: this.#desired.version } : {}),
        memoryEnforcement: driver.capabilities().memoryEnforcement,
      },
    };
  }

  /** One convergence pass; a pass asked for while one runs runs right after it. */
  #converge(): void {
    if (this.#converging) {
      this.#convergeAgain = true;
      return;
    }
    this.#converging = true;
    try {
      do {
        this.#convergeAgain = false;
        this.#convergeOnce();
      } while (this.#convergeAgain);
    } finally {
      this.#converging = false;
    }
  }

  #convergeOnce(): void {
    const set = this.#desired;
    // Nothing is stopped before the agent knows what it should run: an adopted instance waits.
    if (set === undefined || this.#stop.signal.aborted) return;
    const { driver } = this.options;
    const desired = new Map(set.instances.map((a) => [a.instance, a]));
    const actual = new Map(driver.list().map((s) => [s.id, s]));
    this.#artifacts.touch(set.instances.map((a) => a.digest));
    for (const id of this.#failed.keys()) if (!desired.has(id)) this.#failed.delete(id);
    for (const [id, assignment] of desired) this.#graces.set(id, assignment.stop.grace);
    for (const id of this.#graces.keys()) if (!desired.has(id) && !actual.has(id)) this.#graces.delete(id);

    for (const [id, assignment] of desired) {
      if (this.#ops.has(id)) continue;
      const status = actual.get(id);
      const running = status !== undefined && RUNNING.has(status.state);
      // Running and started (or handed its secrets) by this agent: nothing to do. An adopted one
      // gets its secrets again through an idempotent start, which starts nothing.
      if (running && (this.#handed.has(id) || assignment.secrets.length === 0)) continue;
      this.#launch(id, 'start', () => this.#startInstance(assignment, status));
    }
    for (const [id, status] of actual) {
      if (desired.has(id) || this.#ops.has(id)) continue;
      if (RUNNING.has(status.state)) {
        this.#launch(id, 'stop', () => this.#stopWhenDrained(id));
      } else if (Date.now() - status.since >= (this.options.removeStoppedAfter ?? 60_000)) {
        this.#launch(id, 'remove', async () => {
          await driver.remove(id);
          this.#ports.release(status.port);
          this.#handed.delete(id);
        });
      }
    }
  }

  /**
   * The stop of an instance that left the assignment set: after the minimum delay, as soon as the
   * control plane says every live edge is done with it, or at its grace end (stop-verdict.ts).
   * The driver's stop then gives the process `stop.grace` again between the signal and SIGKILL.
   */
  async #stopWhenDrained(id: string): Promise<void> {
    const signal = this.#stop.signal;
    const leaving: LeavingInstance = {
      leftAt: Date.now(),
      minimumMs: this.options.minStopDelay ?? DEFAULT_MIN_STOP_DELAY_MS,
      graceMs: this.#graces.get(id) ?? DEFAULT_GRACE_MS,
    };
    let verdict = stopVerdict(leaving, false, leaving.leftAt);
    while (verdict.action !== 'stop') {
      if (verdict.action === 'wait') await sleep(Math.max(0, verdict.until - Date.now()), undefined, { signal }).catch(() => undefined);
      else await this.#drains.until(id, verdict.until);
      // Closing mid-wait: the instance is left for the next agent, as every other one.
      if (signal.aborted) return;
      verdict = stopVerdict(leaving, this.#drains.drained(id), Date.now());
    }
    this.#drains.forget(id);
    const waitedMs = Date.now() - leaving.leftAt;
    await this.options.driver.stop(id);
    const drained = verdict.reason === 'drained';
    this.options.log.info({ instance: id, waitedMs, drained }, `instance stopped: no longer assigned; ${drained ? 'the edges are done with it' : 'its grace period ended'}`);
  }

  #launch(id: string, what: 'start' | 'stop' | 'remove', op: () => Promise<void>): void {
    const running = op()
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (what === 'start') this.#failed.set(id, { message: `could not start: ${message}`, at: Date.now() });
        this.options.log.warn({ instance: id, err: message }, `instance ${what} failed; retrying on the next pass`);
      })
      .finally(() => {
        this.#ops.delete(id);
        this.#reportSoon();
      });
    this.#ops.set(id, running);
  }

  async #startInstance(a: Assignment, current: InstanceStatus | undefined): Promise<void> {
    const signal = this.#stop.signal;
    const cwd = await this.#artifacts.ensure(a.digest, signal);
    const secrets = a.secrets.length > 0 ? (await this.client.instanceSecrets(a.instance, signal)).secrets : undefined;
    let port = a.port ?? (current && current.port > 0 ? current.port : undefined);
    if (port === undefined) port = await this.#ports.allocate();
    else this.#ports.reserve(port);
    const spec: InstanceSpec = {
      id: a.instance,
      service: a.serviceName,
      release: `v${a.release}`,
      replica: a.replica,
      command: a.command,
      cwd,
      env: a.env,
      ...(secrets ? { secrets } : {}),
      port,
      resources: a.resources,
      health: a.health,
      stop: a.stop,
    };
    if (signal.aborted) return;
    await this.options.driver.start(spec);
    this.#handed.add(a.instance);
    this.#failed.delete(a.instance);
    if (!current || !RUNNING.has(current.state)) this.options.log.info({ instance: a.instance, service: a.serviceName, release: a.release, port }, 'instance started');
  }
}
