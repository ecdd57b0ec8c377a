// The control loops of a control plane (DESIGN §1, §3): on the leader only, reconcile each
// service and host when an event or an agent's report may have changed it, when a pass asked
// to be requeued, and on a periodic resync that catches anything a wake-up missed. One worker
// takes keys one at a time: passes never race each other for a host's drain permits or room.
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { aggregateId } from '../domain/streams.js';
import type { EventStore } from '../store/event-store.js';
import { LOG_START, type LogPosition } from '../store/log-position.js';
import type { RecordedEvent } from '../store/recorded-event.js';
import { SETTLED_HORIZON } from '../store/settled-horizon.js';
import type { FleetOptions } from './build-fleet.js';
import { defaultLeadership, type Leadership } from './leadership.js';
import type { ObservedState } from './observed-state.js';
import type { Clock, ReconcileContext } from './reconcile-context.js';
import { reconcileHost } from './reconcile-host.js';
import { reconcileService } from './reconcile-service.js';
import { ReconcileStatus } from './reconcile-status.js';
import { TerminalError } from './terminal-error.js';
import { WorkQueue } from './work-queue.js';

export interface ControlLoopsOptions {
  readonly store: EventStore;
  readonly observed: ObservedState;
  readonly signal: AbortSignal;
  readonly clock?: Clock;
  /** Default: PGlite always leads; on Postgres, an advisory lock decides. */
  readonly leadership?: Leadership;
  /** ms between full resyncs; default 30 s. */
  readonly resyncIntervalMs?: number;
  /** ms a follower waits before trying to lead again; default 5 s. */
  readonly leaderRetryMs?: number;
  /** ms without a heartbeat before a host is lost; default 30 s. */
  readonly heartbeatTimeoutMs?: number;
  readonly fleet?: FleetOptions;
  /** The actor the loops' events name, e.g. `reconciler@<hostname>`; default `reconciler`. */
  readonly actor?: string;
  /** Leadership is not asked for before this resolves (the API listening: a server that cannot serve never leads); if it rejects, never. */
  readonly startAfter?: Promise<unknown>;
  /** Runs while this control plane leads, beside the reconcilers: the loops of other concerns (the autoscaler). */
  readonly alongside?: readonly { run(leaderSignal: AbortSignal): Promise<void> }[];
  readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface ControlLoops {
  /** What the loops last decided per service and host (empty on a follower). */
  readonly status: ReconcileStatus;
  isLeader(): boolean;
  /** Queues every service and host now. */
  resync(): void;
  /** Settles once the loops have stopped after the signal aborted. */
  readonly stopped: Promise<void>;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 30_000;

/** Doubling per failure from 100 ms to 30 s, with jitter so failing keys spread out. */
const backoff = (attempts: number): number => Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);

// The newest position every reader agrees is settled: where following the log starts after a resync.
const LOG_HEAD = `SELECT tx_id::text::bigint AS tx_id, global_position FROM events
  WHERE tx_id < ${SETTLED_HORIZON}
  ORDER BY tx_id DESC, global_position DESC LIMIT 1`;

const KEYS = `SELECT 'service/' || id AS key FROM services
    WHERE status = 'active' OR id IN (SELECT service_id FROM instances WHERE stop_requested_at IS NULL)
  UNION ALL SELECT 'host/' || id FROM hosts WHERE status <> 'decommissioned'`;

const SERVICES_ON_HOST = `SELECT DISTINCT service_id FROM instances WHERE host_id = $1 AND stop_requested_at IS NULL`;

export function startControlLoops(options: ControlLoopsOptions): ControlLoops {
  const { store, observed, signal } = options;
  const clock = options.clock ?? (() => new Date());
  const leadership = options.leadership ?? defaultLeadership(store.driver);
  const log = options.log ?? pino({ level: 'silent' });
  const status = new ReconcileStatus();
  let leading = false;
  let resync: () => void = () => undefined;

  async function lead(leaderSignal: AbortSignal): Promise<void> {
    const queue = new WorkQueue();
    const failures = new Map<string, number>();
    const drainingHosts = new Set<string>();
    const ctx: ReconcileContext = {
      store,
      observed,
      clock,
      status,
      watchingSince: clock(),
      ...(options.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeout: options.heartbeatTimeoutMs }),
      ...(options.fleet === undefined ? {} : { fleet: options.fleet }),
      ...(options.actor === undefined ? {} : { actor: options.actor }),
    };
    const queueAll = async (): Promise<void> => {
      const rows = await store.driver.query<{ key: string }>(KEYS);
      for (const { key } of rows) queue.add(key);
    };
    resync = () => void queueAll().catch((error: unknown) => log.warn({ err: error }, 'control loops: resync failed'));

    const [head] = await store.driver.query<{ tx_id: number; global_position: number }>(LOG_HEAD);
    const start: LogPosition = head ? { txId: head.tx_id, globalPosition: head.global_position } : LOG_START;
    await queueAll();

    const route = (event: RecordedEvent): void => {
      const kind = event.streamId.slice(0, event.streamId.indexOf('-'));
      const id = aggregateId(event.streamId);
      if (kind === 'service') {
        queue.add(`service/${id}`);
        if (event.type === 'InstancePlaced') queue.add(`host/${event.data.host}`);
        // A stop may be the last instance leaving a draining host.
        if (event.type === 'InstanceStopRequested') for (const host of drainingHosts) queue.add(`host/${host}`);
      } else if (kind === 'host') {
        queue.add(`host/${id}`);
        // Room, lifecycle or permits changed: unplaced and moving instances get another try.
        resync();
      } else if (event.type === 'VolumeCreated') {
        queue.add(`service/${event.data.service}`);
      }
    };
    const following = (async () => {
      let after = start;
      while (!leaderSignal.aborted) {
        try {
          for await (const event of store.subscribe({ after, signal: leaderSignal })) {
            after = { txId: event.txId, globalPosition: event.globalPosition };
            route(event);
          }
        } catch (error) {
          if (leaderSignal.aborted) break;
          log.warn({ err: error }, 'control loops: following the event log failed; retrying');
          await sleep(1_000, undefined, { signal: leaderSignal }).catch(() => undefined);
        }
      }
    })();

    // A report matters to the host (it is alive) and, when an instance changed state, to its service.
    const unwatch = observed.watch?.(({ hostId, instancesChanged }) => {
      queue.add(`host/${hostId}`);
      if (!instancesChanged) return;
      store.driver
        .query<{ service_id: string }>(SERVICES_ON_HOST, [hostId])
        .then((rows) => rows.forEach((r) => queue.add(`service/${r.service_id}`)))
        .catch((error: unknown) => log.warn({ err: error, host: hostId }, 'control loops: reading the services of a host failed'));
    });
    const beside = (options.alongside ?? []).map((loop) => loop.run(leaderSignal).catch((error: unknown) => log.warn({ err: error }, 'control loops: a loop beside the reconcilers failed')));
    const resyncTimer = setInterval(resync, options.resyncIntervalMs ?? 30_000);
    resyncTimer.unref();
    const stopQueue = (): void => queue.close();
    leaderSignal.addEventListener('abort', stopQueue, { once: true });

    try {
      for (let key = await queue.next(leaderSignal); key !== undefined; key = await queue.next(leaderSignal)) {
        const slash = key.indexOf('/');
        const kind = key.slice(0, slash);
        const id = key.slice(slash + 1);
        try {
          const result = kind === 'service' ? await reconcileService(ctx, id) : await reconcileHost(ctx, id);
          failures.delete(key);
          status.clearError(key);
          if (kind === 'host') {
            if (status.host(id)?.drain) drainingHosts.add(id);
            else drainingHosts.delete(id);
          }
          if (result.requeueAfter !== undefined) queue.addAfter(key, result.requeueAfter);
        } catch (error) {
          if (leaderSignal.aborted) break;
          const attempts = (failures.get(key) ?? 0) + 1;
          const terminal = error instanceof TerminalError;
          const message = error instanceof Error ? error.message : String(error);
          status.setError({ key, message, attempts, terminal, at: clock().toISOString() });
          if (terminal) {
            failures.delete(key);
            log.error({ err: error, key }, 'control loops: giving up on a key until it changes');
          } else {
            failures.set(key, attempts);
            log.warn({ err: error, key, attempts }, 'control loops: reconcile failed; retrying with backoff');
            queue.addAfter(key, backoff(attempts));
          }
        }
      }
    } finally {
      clearInterval(resyncTimer);
      unwatch?.();
      leaderSignal.removeEventListener('abort', stopQueue);
      queue.close();
      resync = () => undefined;
      await following;
      await Promise.all(beside);
    }
  }

  const stopped = (async () => {
    if (options.startAfter !== undefined && !(await options.startAfter.then(() => true, () => false))) return;
    while (!signal.aborted) {
      let lease;
      try {
        lease = await leadership.acquire();
      } catch (error) {
        log.warn({ err: error }, 'control loops: could not ask for leadership; retrying');
      }
      if (lease === undefined) {
        await sleep(options.leaderRetryMs ?? 5_000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      const leaderSignal = AbortSignal.any([signal, lease.lost]);
      leading = true;
      log.info({}, 'control loops: leading');
      try {
        await lead(leaderSignal);
      } catch (error) {
        log.warn({ err: error }, 'control loops: leading failed; stepping down');
      } finally {
        leading = false;
        status.clear();
        await lease.release().catch(() => undefined);
      }
      if (!signal.aborted) {
        log.info({}, 'control loops: no longer leading');
        await sleep(options.leaderRetryMs ?? 5_000, undefined, { signal }).catch(() => undefined);
      }
    }
  })();

  return { status, isLeader: () => leading, resync: () => resync(), stopped };
}
