// Runs an instance's readiness and liveness probes for one run of its process and says when it
// becomes ready, stops being ready, or must be restarted.
//
// While an instance is starting, readiness is polled every `startingPoll` ms rather than every
// interval, so an app that is up in 80 ms is routed to at ~80 ms, not at the next 10 s tick;
// failures then do not count until the start deadline (initialDelay + failures × interval), as a
// Kubernetes startup probe. Liveness waits for that start too, so a slow boot is not killed.
import type { Health, Probe } from '../spec/probe.js';
import { runProbe, type ProbeResult, type ProbeTarget } from './probe.js';

export interface HealthListener {
  ready(): void;
  unhealthy(detail: string): void;
  livenessFailed(detail: string): void;
}

export interface HealthWatchOptions {
  /** ms between readiness probes while starting */
  readonly startingPoll: number;
  /** resume an adopted instance as already ready: no start phase */
  readonly resumeReady?: boolean;
}

type Readiness = 'starting' | 'ready' | 'unready';

export class HealthWatch {
  #stopped = false;
  #readiness: Readiness = 'starting';
  #readyFailures = 0;
  #liveFailures = 0;
  #liveBegun = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #startedAt = Date.now();

  constructor(
    private readonly health: Health,
    private readonly target: ProbeTarget,
    private readonly listener: HealthListener,
    private readonly options: HealthWatchOptions,
  ) {}

  start(): void {
    const ready = this.health.ready;
    if (ready === undefined) {
      this.#readiness = 'ready';
      this.listener.ready();
      this.#beginLiveness();
      return;
    }
    if (this.options.resumeReady) {
      this.#readiness = 'ready';
      this.#after(ready.interval, () => this.#probeReady(ready));
      this.#beginLiveness();
      return;
    }
    this.#after(ready.initialDelay, () => this.#probeReady(ready));
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #probeReady(probe: Probe): Promise<void> {
    const result = await this.#run(probe);
    if (result === undefined) return;
    if (result.ok) {
      this.#readyFailures = 0;
      if (this.#readiness !== 'ready') {
        this.#readiness = 'ready';
        this.listener.ready();
        this.#beginLiveness();
      }
      this.#after(probe.interval, () => this.#probeReady(probe));
      return;
    }
    if (this.#readiness === 'starting') {
      const deadline = probe.initialDelay + probe.failures * probe.interval;
      const waited = Date.now() - this.#startedAt;
      if (waited < deadline) {
        this.#after(Math.min(this.options.startingPoll, probe.interval), () => this.#probeReady(probe));
        return;
      }
      this.#readiness = 'unready';
      this.listener.unhealthy(`not ready after ${waited}ms: ${result.detail}`);
      this.#beginLiveness();
    } else if (++this.#readyFailures >= probe.failures && this.#readiness === 'ready') {
      this.#readiness = 'unready';
      this.listener.unhealthy(`readiness failed ${this.#readyFailures} times: ${result.detail}`);
    }
    this.#after(probe.interval, () => this.#probeReady(probe));
  }

  #beginLiveness(): void {
    const live = this.health.live;
    if (live === undefined || this.#liveBegun) return;
    this.#liveBegun = true;
    this.#after(Math.max(0, this.#startedAt + live.initialDelay - Date.now()), () => this.#probeLive(live));
  }

  async #probeLive(probe: Probe): Promise<void> {
    const result = await this.#run(probe);
    if (result === undefined) return;
    this.#liveFailures = result.ok ? 0 : this.#liveFailures + 1;
    if (this.#liveFailures >= probe.failures) {
      // the instance will be restarted, with a new watch for the new run
      this.listener.livenessFailed(`liveness failed ${this.#liveFailures} times: ${result.detail}`);
      return;
    }
    this.#after(probe.interval, () => this.#probeLive(probe));
  }

  /** The probe's result, or undefined when the watch was stopped meanwhile. */
  async #run(probe: Probe): Promise<ProbeResult | undefined> {
    if (this.#stopped) return undefined;
    const result = await runProbe(probe, this.target);
    return this.#stopped ? undefined : result;
  }

  #after(ms: number, run: () => Promise<void>): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void run();
    }, ms);
    this.#timers.add(timer);
  }
}
