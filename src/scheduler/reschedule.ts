// Moving instances off hosts that are draining or lost (DESIGN §7). Instances of a lost host
// are already down: all are replaced at once (wave 0). Instances of a draining host still
// serve: they move in waves of at most `maxParallel`, interleaved across services so one wave
// takes as few replicas of a service as it can. An instance whose volume lives on the host
// cannot move without its data: it is reported stranded, never moved.
import type { Fleet, PlacedInstance } from './fleet.js';
import { placeInto, type PlaceOptions } from './place-all.js';
import type { Reason } from './reason.js';
import type { PlacementRequest } from './request.js';
import { PlacementState } from './state.js';

export type LeaveCause = 'lost' | 'draining';

export interface Move {
  readonly instance: string;
  readonly service: string;
  readonly replica: number;
  readonly from: string;
  readonly to: string;
  readonly cause: LeaveCause;
  /** 0 for replacements of lost instances; 1, 2, … for drain waves of at most maxParallel moves. */
  readonly wave: number;
}

export interface Stranded {
  readonly instance: string;
  readonly service: string;
  readonly host: string;
  readonly volume: string;
  readonly cause: LeaveCause;
  readonly message: string;
}

export interface StuckInstance {
  readonly instance: string;
  readonly service: string;
  readonly host: string;
  readonly cause: LeaveCause;
  readonly reasons: readonly Reason[];
}

export interface ReschedulePlan {
  readonly moves: readonly Move[];
  readonly stranded: readonly Stranded[];
  /** Instances no other host can take now: the drain cannot finish, the lost capacity is not replaced. */
  readonly unplaceable: readonly StuckInstance[];
  /** Waves in the plan, wave 0 included when it has moves. */
  readonly waves: number;
}

export interface RescheduleOptions extends PlaceOptions {
  /** Drain moves per wave; default 1. */
  readonly maxParallel?: number;
}

export function planReschedule(fleet: Fleet, options: RescheduleOptions = {}): ReschedulePlan {
  const maxParallel = Math.max(1, Math.floor(options.maxParallel ?? 1));
  const cause = new Map<string, LeaveCause>();
  for (const host of fleet.hosts) if (host.state === 'lost' || host.state === 'draining') cause.set(host.id, host.state);

  const staying: PlacedInstance[] = [];
  const stranded: Stranded[] = [];
  const leaving = new Map<PlacementRequest, { instance: PlacedInstance; cause: LeaveCause }>();
  for (const instance of fleet.instances) {
    const why = cause.get(instance.host);
    if (why === undefined) {
      staying.push(instance);
    } else if (instance.volume !== undefined) {
      staying.push(instance);
      stranded.push({
        instance: instance.id,
        service: instance.service,
        host: instance.host,
        volume: instance.volume,
        cause: why,
        message:
          why === 'lost'
            ? `volume ${instance.volume} lives on lost host ${instance.host}: restore it from a backup or bring the host back`
            : `volume ${instance.volume} lives on draining host ${instance.host}: migrate the volume before the drain can finish`,
      });
    } else {
      const request: PlacementRequest = {
        service: instance.service,
        replica: instance.replica ?? 0,
        resources: instance.resources,
        ...(instance.ports === undefined ? {} : { ports: instance.ports }),
        ...(instance.placement === undefined ? {} : { placement: instance.placement }),
      };
      leaving.set(request, { instance, cause: why });
    }
  }

  // lost first: those instances are down now, drained ones still serve
  const requests = [...leaving.entries()].sort(([, a], [, b]) => (a.cause === b.cause ? 0 : a.cause === 'lost' ? -1 : 1)).map(([r]) => r);
  const state = new PlacementState({ ...fleet, instances: staying }, options);
  const result = placeInto(state, requests, options);

  const lostMoves: Move[] = [];
  const drainByService = new Map<string, Omit<Move, 'wave'>[]>();
  for (const { request, host } of result.placements) {
    const { instance, cause: why } = leaving.get(request)!;
    const move = { instance: instance.id, service: instance.service, replica: request.replica, from: instance.host, to: host, cause: why };
    if (why === 'lost') lostMoves.push({ ...move, wave: 0 });
    else {
      let list = drainByService.get(instance.service);
      if (list === undefined) drainByService.set(instance.service, (list = []));
      list.push(move);
    }
  }
  // round-robin over services, so consecutive moves (one wave) belong to different services
  const drainMoves: Move[] = [];
  const queues = [...drainByService.values()];
  for (let round = 0, placed = 0; queues.some((q) => q.length > round); round++) {
    for (const q of queues) {
      const move = q[round];
      if (move === undefined) continue;
      drainMoves.push({ ...move, wave: 1 + Math.floor(placed / maxParallel) });
      placed++;
    }
  }
  const lastWave = drainMoves.at(-1)?.wave ?? 0;
  return {
    moves: [...lostMoves, ...drainMoves],
    stranded,
    unplaceable: result.unplaceable.map(({ request, reasons }) => {
      const { instance, cause: why } = leaving.get(request)!;
      return { instance: instance.id, service: instance.service, host: instance.host, cause: why, reasons };
    }),
    waves: lastWave + (lostMoves.length > 0 ? 1 : 0),
  };
}
