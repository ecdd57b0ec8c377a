// Everything one reconcile reads about the fleet, gathered once per pass: the scheduler's
// Fleet, each host's lifecycle, the live placements, their reported states, and drain permits.
import type { Fleet, HostState } from '../scheduler/index.js';
import { buildFleet, hostState, type FleetOptions } from './build-fleet.js';
import { drainPermits } from './drain-permits.js';
import type { FleetInstanceRow, FleetRows, FleetVolumeRow } from './fleet-rows.js';
import type { ObservedInstance, ObservedState } from './observed-state.js';

export interface FleetHost {
  readonly id: string;
  readonly name: string;
  readonly state: HostState;
  readonly drain: { readonly deadline: Date; readonly maxParallel: number } | null;
}

export interface FleetView {
  readonly fleet: Fleet;
  /** Hosts not decommissioned; a placement on a host missing here is gone with its host. */
  readonly hosts: ReadonlyMap<string, FleetHost>;
  /** Placements not asked to stop, fleet-wide. */
  readonly live: readonly FleetInstanceRow[];
  readonly volumes: readonly FleetVolumeRow[];
  /** By instance id, as the host it is placed on last reported it. */
  readonly observed: ReadonlyMap<string, ObservedInstance>;
  /** Instances that may leave their draining host now. */
  readonly drainPermits: ReadonlySet<string>;
}

export function viewFleet(rows: FleetRows, observed: ObservedState, now: Date, options: FleetOptions = {}): FleetView {
  const live = rows.instances.filter((i) => !i.stopRequested);
  const reports = new Map<string, ObservedInstance>();
  for (const host of rows.hosts) {
    for (const report of observed.host(host.id)?.instances ?? []) reports.set(`${host.id}/${report.id}`, report);
  }
  const observedById = new Map<string, ObservedInstance>();
  for (const i of live) {
    const report = reports.get(`${i.host}/${i.id}`);
    if (report !== undefined) observedById.set(i.id, report);
  }
  return {
    fleet: buildFleet(rows, observed, options),
    hosts: new Map(
      rows.hosts.map((row) => [
        row.id,
        {
          id: row.id,
          name: row.name,
          state: hostState(row),
          drain: row.drain === null ? null : { deadline: new Date(row.drain.deadline), maxParallel: row.drain.maxParallel },
        },
      ]),
    ),
    live,
    volumes: rows.volumes,
    observed: observedById,
    drainPermits: drainPermits(rows.hosts, live, rows.volumes, now),
  };
}
