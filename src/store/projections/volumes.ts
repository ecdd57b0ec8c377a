// The `volumes` table: which volume lives on which host, so a host with volumes is not
// decommissioned and an instance with a volume is placed where its data is.
import { aggregateId } from '../../domain/streams.js';
import type { Projection } from '../projection.js';

export interface VolumeRow {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly service_id: string;
  readonly host_id: string;
  /** bytes */
  readonly size: number;
  readonly status: 'active' | 'deleted';
  readonly last_backup: string | null;
  readonly last_backup_at: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly stream_version: number;
}

export const volumesProjection: Projection<VolumeRow> = {
  table: 'volumes',
  columns: [
    'id', 'name', 'tenant', 'service_id', 'host_id', 'size', 'status', 'last_backup', 'last_backup_at',
    'created_at', 'updated_at', 'stream_version',
  ],
  handles: ['VolumeCreated', 'VolumeBackedUp', 'VolumeDeleted'],
  creates: ['VolumeCreated'],
  rowId: (event) => aggregateId(event.streamId),
  evolve(row, event) {
    const at = event.at.toISOString();
    if (event.type === 'VolumeCreated') {
      const { name, tenant, service, host, size } = event.data;
      return {
        id: aggregateId(event.streamId),
        name,
        tenant,
        service_id: service,
        host_id: host,
        size,
        status: 'active',
        last_backup: null,
        last_backup_at: null,
        created_at: at,
        updated_at: at,
      };
    }
    if (!row) return undefined;
    switch (event.type) {
      case 'VolumeBackedUp':
        return { ...row, last_backup: event.data.backup, last_backup_at: at, updated_at: at };
      case 'VolumeDeleted':
        return { ...row, status: 'deleted', updated_at: at };
      default:
        return undefined;
    }
  },
};
