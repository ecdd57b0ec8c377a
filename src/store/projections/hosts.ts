// The `hosts` table: the fleet as the scheduler and the dashboard see it.
import { aggregateId } from '../../domain/streams.js';
import type { Projection } from '../projection.js';

export interface HostRow {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly region: string;
  /** bytes */
  readonly memory: number;
  /** millicores */
  readonly cpu: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: 'active' | 'lost' | 'decommissioned';
  readonly cordoned: boolean;
  readonly drain: { readonly deadline: string; readonly maxParallel: number } | null;
  readonly last_seen: string | null;
  readonly enrolled_at: string;
  readonly updated_at: string;
  readonly stream_version: number;
}

export const hostsProjection: Projection<HostRow> = {
  table: 'hosts',
  columns: [
    'id', 'name', 'address', 'region', 'memory', 'cpu', 'labels', 'status', 'cordoned', 'drain',
    'last_seen', 'enrolled_at', 'updated_at', 'stream_version',
  ],
  handles: [
    'HostEnrolled', 'HostCordoned', 'HostUncordoned', 'HostDrainStarted', 'HostDrainCompleted',
    'HostLost', 'HostRecovered', 'HostDecommissioned',
  ],
  creates: ['HostEnrolled'],
  rowId: (event) => aggregateId(event.streamId),
  evolve(row, event) {
    const at = event.at.toISOString();
    if (event.type === 'HostEnrolled') {
      const { name, address, region, capacity, labels } = event.data;
      return {
        id: aggregateId(event.streamId),
        name,
        address,
        region,
        memory: capacity.memory,
        cpu: capacity.cpu,
        labels,
        status: 'active',
        cordoned: false,
        drain: null,
        last_seen: null,
        enrolled_at: at,
        updated_at: at,
      };
    }
    if (!row) return undefined;
    const updated = { ...row, updated_at: at };
    switch (event.type) {
      case 'HostCordoned':
        return { ...updated, cordoned: true };
      case 'HostUncordoned':
        return { ...updated, cordoned: false, drain: null };
      case 'HostDrainStarted':
        return { ...updated, cordoned: true, drain: { deadline: event.data.deadline, maxParallel: event.data.maxParallel } };
      case 'HostDrainCompleted':
        return { ...updated, drain: null };
      case 'HostLost':
        return { ...updated, status: 'lost', last_seen: event.data.lastSeen };
      case 'HostRecovered':
        return { ...updated, status: 'active' };
      case 'HostDecommissioned':
        return { ...updated, status: 'decommissioned', drain: null };
      default:
        return undefined;
    }
  },
};
