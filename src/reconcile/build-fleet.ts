// The scheduler's view of the fleet (DESIGN §4), from the projection rows and what agents
// report. Pure: the same rows and reports always give the same fleet.
import type { Cluster, Fleet, HostState, PlacedInstance, Strategy } from '../scheduler/index.js';
import type { FleetHostRow, FleetInstanceRow, FleetRows } from './fleet-rows.js';
import { occupiesHost, type ObservedState } from './observed-state.js';

export interface FleetOptions {
  /** Bytes per host kept free so a burst of usage does not reach the OOM killer; default 0. */
  readonly safetyBuffer?: number;
  readonly cpuOvercommitRatio?: number;
  readonly strategy?: Strategy;
}

/** Lifecycle first: a lost host that was draining is lost, a draining host is also cordoned. */
export function hostState(row: Pick<FleetHostRow, 'status' | 'cordoned' | 'drain'>): HostState {
  if (row.status === 'decommissioned') return 'decommissioned';
  if (row.status === 'lost') return 'lost';
  if (row.drain !== null) return 'draining';
  return row.cordoned ? 'cordoned' : 'schedulable';
}

/** Whether the placement still takes room on its host: not asked to stop, or its agent still runs it. */
export function holdsRoom(instance: FleetInstanceRow, observed: ObservedState): boolean {
  if (!instance.stopRequested) return true;
  const reported = observed.host(instance.host)?.instances.find((i) => i.id === instance.id);
  return reported !== undefined && occupiesHost(reported);
}

export function buildFleet(rows: FleetRows, observed: ObservedState, options: FleetOptions = {}): Fleet {
  const cluster: Cluster = {
    name: 'default',
    ...(options.cpuOvercommitRatio === undefined ? {} : { cpuOvercommitRatio: options.cpuOvercommitRatio }),
    ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
  };
  // The hosts projection keeps what berth may place (physical minus the agent's reservation).
  const hosts = rows.hosts.map((row) => ({
    id: row.id,
    name: row.name,
    region: row.region,
    labels: row.labels,
    state: hostState(row),
    memory: { physical: row.memory, reserved: 0, safetyBuffer: options.safetyBuffer ?? 0 },
    cores: row.cpu / 1000,
  }));
  const volumeOn = new Map(rows.volumes.map((v) => [`${v.service}@${v.host}`, v.id]));
  const instances = rows.instances
    .filter((i) => holdsRoom(i, observed))
    .map((i): PlacedInstance => {
      const ports = [...new Set([...(i.port === null ? [] : [i.port]), ...i.ports])];
      const volume = volumeOn.get(`${i.service}@${i.host}`);
      return {
        id: i.id,
        service: i.service,
        replica: i.replica,
        host: i.host,
        resources: i.resources,
        ...(ports.length > 0 ? { ports } : {}),
        ...(volume === undefined ? {} : { volume }),
        placement: { ...(i.placement.region === undefined ? {} : { region: i.placement.region }), labels: i.placement.labels },
      };
    });
  return { clusters: [cluster], hosts, instances, volumes: rows.volumes.map((v) => ({ name: v.id, host: v.host })) };
}
