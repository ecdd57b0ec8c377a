// The autoscaler's shell (DESIGN §5, issue 7 item 2): on the leader, every second, read each
// autoscaled service and its signals, ask the pure decide(), remember the decision in the
// service's history, and append an AutoscaleDecided only when the count changes.
//
// Histories live in memory and start empty whenever this control plane starts leading (a cold
// start). Replaying AutoscaleDecided events would not rebuild them: the windows are means of
// per-second demand samples, and the events keep only the ticks where the count moved. decide()
// is built for a young history instead: scale-down stabilization counts the current count as
// recommended for the first 5 minutes, and scale-to-zero waits a full `idle` from the first
// tick, so a failover never scales down on a few samples. Scale-ups need no past.
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { decide } from '../autoscaler/decide.js';
import { AutoscaleHistory } from '../autoscaler/history.js';
import { autoscalePolicy, DEFAULT_TUNING, type AutoscalePolicy, type AutoscaleTuning } from '../autoscaler/policy.js';
import { BerthError } from '../core/errors.js';
import { serviceDecider } from '../domain/service.js';
import { serviceStream } from '../domain/streams.js';
import type { ScaleSpec, ScaleTarget } from '../spec/scale.js';
import { handleCommand } from '../store/command-handler.js';
import type { EventStore } from '../store/event-store.js';
import type { Activation, LoadReports } from './load-reports.js';
import type { LoadSnapshot } from './load-snapshot.js';
import type { ObservedState } from './observed-state.js';
import type { Clock } from './reconcile-context.js';

export const AUTOSCALER_ACTOR = 'autoscaler';
const DEFAULT_TICK_MS = 1_000;

/** What the loop last made of a service: `scale show` prints it as "pending". */
export interface AutoscaleEvaluation {
  readonly service: string;
  readonly at: string;
  /** The count the service wants now (the last decision). */
  readonly replicas: number;
  readonly ready: number;
  /** What this tick decided; equal to `replicas` when nothing changes. */
  readonly wants: number;
  readonly reason: string;
  readonly inputs: Readonly<Record<string, number>>;
  /** Set when the tick could not decide: which signal is missing and why. */
  readonly waiting?: string;
}

export interface AutoscaleLoopOptions {
  readonly store: EventStore;
  readonly observed: ObservedState;
  readonly loads: LoadReports;
  readonly clock?: Clock;
  /** ms between ticks; default 1 s (the edge reports every second). */
  readonly tickMs?: number;
  readonly tuning?: Partial<AutoscaleTuning>;
  readonly log?: Pick<Logger, 'warn'>;
}

interface ServiceRow {
  id: string;
  name: string;
  replicas: number;
  scale: ScaleSpec;
  burst: { replicas: number; until: string } | null;
}

interface InstanceRow {
  id: string;
  service_id: string;
  host_id: string;
  cpu: number | null;
}

const SERVICES = `SELECT id, name, replicas, scale, burst FROM services WHERE status = 'active' AND scale IS NOT NULL ORDER BY id`;
const INSTANCES = `SELECT i.id, i.service_id, i.host_id, (r.spec->'resources'->>'cpu')::float8 AS cpu
  FROM instances i JOIN releases r ON r.service_id = i.service_id AND r.version = i.release
  WHERE i.stop_requested_at IS NULL AND i.service_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`;

interface Tracked {
  readonly history: AutoscaleHistory;
  /** The target the samples are in units of; a new target (or window) starts a new history. */
  readonly target: string;
}

export class AutoscaleLoop {
  readonly #histories = new Map<string, Tracked>();
  readonly #evaluations = new Map<string, AutoscaleEvaluation>();
  readonly #clock: Clock;
  readonly #tuning: AutoscaleTuning;
  readonly #log: Pick<Logger, 'warn'>;

  constructor(private readonly options: AutoscaleLoopOptions) {
    this.#clock = options.clock ?? (() => new Date());
    this.#tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.#log = options.log ?? pino({ level: 'silent' });
  }

  /** Where the API puts edge reports, external metrics and activations. */
  get loads(): LoadReports {
    return this.options.loads;
  }

  evaluation(service: string): AutoscaleEvaluation | undefined {
    return this.#evaluations.get(service);
  }

  /** Ticks until `signal` aborts; starts from empty histories (see the file comment). */
  async run(signal: AbortSignal): Promise<void> {
    this.#histories.clear();
    this.#evaluations.clear();
    try {
      while (!signal.aborted) {
        await this.tick().catch((error: unknown) => this.#log.warn({ err: error }, 'autoscaler: a tick failed; trying again next tick'));
        await sleep(this.options.tickMs ?? DEFAULT_TICK_MS, undefined, { signal }).catch(() => undefined);
      }
    } finally {
      this.#evaluations.clear();
    }
  }

  /** One decision per autoscaled service; returns what each tick made of them. */
  async tick(): Promise<AutoscaleEvaluation[]> {
    const { store } = this.options;
    const now = this.#clock();
    const services = await store.driver.query<ServiceRow>(SERVICES);
    const ids = services.map((s) => s.id);
    for (const id of this.#histories.keys()) if (!ids.includes(id)) this.#histories.delete(id);
    for (const id of this.#evaluations.keys()) if (!ids.includes(id)) this.#evaluations.delete(id);
    if (services.length === 0) return [];
    // Edge loads, metrics and activations once per tick, for every service (load-reports.ts);
    // activations for a service no longer autoscaled are taken and dropped.
    const [instances, loads, activations] = await Promise.all([
      store.driver.query<InstanceRow>(INSTANCES, [JSON.stringify(ids)]),
      this.options.loads.read(),
      this.options.loads.takeActivations(),
    ]);
    const evaluations: AutoscaleEvaluation[] = [];
    for (const service of services) {
      const names = service.name === service.id ? [service.id] : [service.id, service.name];
      const signals = { loads, activations: activations.filter((a) => names.includes(a.service)) };
      const evaluation = await this.#decide(service, names, instances.filter((i) => i.service_id === service.id), signals, now);
      this.#evaluations.set(service.id, evaluation);
      evaluations.push(evaluation);
    }
    return evaluations;
  }

  async #decide(
    service: ServiceRow,
    names: readonly string[],
    instances: readonly InstanceRow[],
    signals: { readonly loads: LoadSnapshot; readonly activations: readonly Activation[] },
    now: Date,
  ): Promise<AutoscaleEvaluation> {
    const at = now.getTime();
    const ready = instances.filter((i) => this.#reported(i)?.state === 'ready');
    const bursts = service.burst === null ? [] : [{ replicas: service.burst.replicas, until: Date.parse(service.burst.until) }];
    const policy = autoscalePolicy(service.scale, { bursts, tuning: this.#tuning });
    const tracked = this.#track(service, policy);
    // An activation is demand the edge saw before any report could: it keeps the service from
    // going back to zero for `idle`, even if the next report is already empty.
    for (const a of signals.activations) {
      const when = Math.max(a.at, tracked.history.lastAt ?? -Infinity);
      const to = Math.max(service.replicas, 1);
      tracked.history.record(when, { from: to, replicas: to, demand: Math.max(a.queued, 1), remembered: to, panicTriggered: false });
    }
    const base = { service: service.id, at: now.toISOString(), replicas: service.replicas, ready: ready.length };
    const signal = this.#signal(service.scale.target, names, ready, signals.loads);
    if (typeof signal === 'string') {
      return { ...base, wants: service.replicas, reason: `holding at ${service.replicas}: ${signal}`, inputs: {}, waiting: signal };
    }
    const open = signals.loads.edgeLoad(names)?.open;
    const decision = decide(policy, { replicas: service.replicas, ready: ready.length, value: signal, ...(open === undefined ? {} : { open }) }, tracked.history, at);
    let moved = false;
    if (decision.replicas !== service.replicas) moved = await this.#append(service, decision.replicas, decision.reason, decision.inputs, now);
    // A decision the store refused did not happen: the history must not count it as a scale.
    tracked.history.record(at, moved ? decision : { ...decision, replicas: decision.from });
    return { ...base, wants: decision.replicas, reason: decision.reason, inputs: decision.inputs };
  }

  async #append(service: ServiceRow, to: number, reason: string, signals: Record<string, number>, now: Date): Promise<boolean> {
    try {
      const command = { type: 'RecordAutoscaleDecision', from: service.replicas, to, reason, signals, now } as const;
      const handled = await handleCommand(this.options.store, serviceStream(service.id), serviceDecider, command, {
        metadata: { actor: AUTOSCALER_ACTOR },
      });
      return handled.events.length > 0;
    } catch (error) {
      // A scale command raced this tick (the count or the bounds moved): the next tick decides
      // again on what is stored now.
      if (error instanceof BerthError && error.status < 500) {
        this.#log.warn({ service: service.id, err: error }, 'autoscaler: decision refused; deciding again next tick');
        return false;
      }
      throw error;
    }
  }

  #track(service: ServiceRow, policy: AutoscalePolicy): Tracked {
    const target = JSON.stringify(service.scale.target);
    const known = this.#histories.get(service.id);
    // A new stabilization window (the spec's) needs a history with that window: start anew.
    if (known?.target === target && known.history.fits(policy)) return known;
    const tracked = { history: new AutoscaleHistory(policy), target };
    this.#histories.set(service.id, tracked);
    return tracked;
  }

  #reported(instance: InstanceRow) {
    return this.options.observed.host(instance.host_id)?.instances.find((i) => i.id === instance.id);
  }

  /** The target's metric now, or why there is none (then the count holds). */
  #signal(target: ScaleTarget, names: readonly string[], ready: readonly InstanceRow[], loads: LoadSnapshot): number | string {
    switch (target.type) {
      case 'concurrency':
      case 'rps': {
        const load = loads.edgeLoad(names);
        if (load === undefined) return `no edge has reported ${names[0]} in the last 5s`;
        return target.type === 'concurrency' ? load.concurrency : load.rps;
      }
      case 'cpu': {
        if (ready.length === 0) return 0;
        const percents = ready.flatMap((i) => {
          const used = this.#reported(i)?.cpuMillicores;
          return used === undefined || i.cpu === null || i.cpu <= 0 ? [] : [(used / i.cpu) * 100];
        });
        if (percents.length === 0) return `no agent has reported the CPU of ${names[0]}'s ready instances yet`;
        return percents.reduce((a, b) => a + b, 0) / percents.length;
      }
      case 'metric': {
        const metric = loads.externalMetric(names, target.metric);
        if (metric === undefined) return `no value of ${target.metric} pushed in the last 5m (POST /v1/services/${names[0]}/metrics)`;
        return metric.value;
      }
    }
  }
}
