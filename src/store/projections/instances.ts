// The `instances` table: every placement with its host and release, and whether it was asked to
// stop. Whether it runs is observed state and lives elsewhere. Instance ids are unique fleet-wide.
import { aggregateId } from '../../domain/streams.js';
import type { Projection } from '../projection.js';

export interface InstanceRow {
  readonly id: string;
  readonly service_id: string;
  readonly host_id: string;
  readonly release: number;
  readonly port: number | null;
  readonly replica: number;
  readonly placed_at: string;
  readonly stop_requested_at: string | null;
  readonly stop_reason: string | null;
  readonly stream_version: number;
}

export const instancesProjection: Projection<InstanceRow> = {
  table: 'instances',
  columns: [
    'id', 'service_id', 'host_id', 'release', 'port', 'replica', 'placed_at', 'stop_requested_at',
    'stop_reason', 'stream_version',
  ],
  handles: ['InstancePlaced', 'InstanceStopRequested'],
  creates: ['InstancePlaced'],
  rowId(event) {
    if (event.type === 'InstancePlaced' || event.type === 'InstanceStopRequested') return event.data.instance;
    throw new Error(`instances do not handle ${event.type}`);
  },
  evolve(row, event) {
    const at = event.at.toISOString();
    switch (event.type) {
      case 'InstancePlaced': {
        const { instance, host, release, port, replica } = event.data;
        return {
          id: instance,
          service_id: aggregateId(event.streamId),
          host_id: host,
          release,
          port,
          replica,
          placed_at: at,
          stop_requested_at: null,
          stop_reason: null,
        };
      }
      case 'InstanceStopRequested':
        return row ? { ...row, stop_requested_at: at, stop_reason: event.data.reason } : undefined;
      default:
        return undefined;
    }
  },
};
