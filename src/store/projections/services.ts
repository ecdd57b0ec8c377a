// The `services` table: one row per service with what the API lists and the reconciler needs.
import { aggregateId } from '../../domain/streams.js';
import type { ScaleSpec } from '../../spec/scale.js';
import type { ServiceSpec } from '../../spec/service.js';
import type { Projection } from '../projection.js';

export interface ServiceRow {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly status: 'active' | 'deleted';
  readonly spec: ServiceSpec;
  /** The fixed count, or the autoscaler's last decision when `scale` is set. */
  readonly replicas: number;
  readonly scale: ScaleSpec | null;
  readonly burst: { readonly replicas: number; readonly until: string } | null;
  readonly latest_release: number | null;
  readonly active_release: number | null;
  readonly rollout: { readonly release: number; readonly previous: number | null } | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly stream_version: number;
}

export const servicesProjection: Projection<ServiceRow> = {
  table: 'services',
  columns: [
    'id', 'name', 'tenant', 'status', 'spec', 'replicas', 'scale', 'burst', 'latest_release',
    'active_release', 'rollout', 'created_at', 'updated_at', 'stream_version',
  ],
  handles: [
    'ServiceCreated',
    'ServiceSpecChanged',
    'ServiceDeleted',
    'ReleaseCreated',
    'RolloutStarted',
    'RolloutCompleted',
    'RolloutReverted',
    'ScaleSpecSet',
    'ReplicasSet',
    'BurstStarted',
    'BurstEnded',
    'AutoscaleDecided',
  ],
  creates: ['ServiceCreated'],
  rowId: (event) => aggregateId(event.streamId),
  evolve(row, event) {
    const at = event.at.toISOString();
    if (event.type === 'ServiceCreated') {
      const { name, tenant, spec } = event.data;
      return {
        id: aggregateId(event.streamId),
        name,
        tenant,
        status: 'active',
        spec,
        replicas: spec.scale ? spec.scale.min : (spec.replicas ?? 1),
        scale: spec.scale ?? null,
        burst: null,
        latest_release: null,
        active_release: null,
        rollout: null,
        created_at: at,
        updated_at: at,
      };
    }
    if (!row) return undefined;
    const updated = { ...row, updated_at: at };
    switch (event.type) {
      case 'ServiceSpecChanged':
        return { ...updated, spec: event.data.spec };
      case 'ServiceDeleted':
        return { ...updated, status: 'deleted', rollout: null, burst: null };
      case 'ReleaseCreated':
        return { ...updated, latest_release: event.data.version };
      case 'RolloutStarted':
        return { ...updated, rollout: { release: event.data.release, previous: event.data.previous } };
      case 'RolloutCompleted':
        return { ...updated, active_release: event.data.release, rollout: null };
      case 'RolloutReverted':
        return { ...updated, active_release: event.data.to, rollout: null };
      case 'ScaleSpecSet':
        return { ...updated, scale: event.data, replicas: Math.min(Math.max(row.replicas, event.data.min), event.data.max) };
      case 'ReplicasSet':
        return { ...updated, scale: null, replicas: event.data.replicas };
      case 'AutoscaleDecided':
        return row.scale ? { ...updated, replicas: event.data.to } : updated;
      case 'BurstStarted':
        return { ...updated, burst: { replicas: event.data.replicas, until: event.data.until } };
      case 'BurstEnded':
        return { ...updated, burst: null };
      default:
        return undefined;
    }
  },
};
