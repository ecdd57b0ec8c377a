// The `releases` table: every release of every service with how its rollout went.
import { aggregateId } from '../../domain/streams.js';
import type { ServiceSpec } from '../../spec/service.js';
import type { Projection } from '../projection.js';

export interface ReleaseRow {
  /** `<service id>/<version>` */
  readonly id: string;
  readonly service_id: string;
  readonly version: number;
  readonly digest: string;
  readonly spec: ServiceSpec;
  readonly env: Readonly<Record<string, string>>;
  readonly secret_names: readonly string[];
  readonly created_at: string;
  readonly rollout_started_at: string | null;
  readonly rolled_out_at: string | null;
  readonly reverted_at: string | null;
  readonly revert_reason: string | null;
  readonly stream_version: number;
}

export const releaseId = (serviceId: string, version: number): string => `${serviceId}/${version}`;

export const releasesProjection: Projection<ReleaseRow> = {
  table: 'releases',
  columns: [
    'id', 'service_id', 'version', 'digest', 'spec', 'env', 'secret_names', 'created_at',
    'rollout_started_at', 'rolled_out_at', 'reverted_at', 'revert_reason', 'stream_version',
  ],
  handles: ['ReleaseCreated', 'RolloutStarted', 'RolloutCompleted', 'RolloutReverted'],
  creates: ['ReleaseCreated'],
  rowId(event) {
    const service = aggregateId(event.streamId);
    switch (event.type) {
      case 'ReleaseCreated':
        return releaseId(service, event.data.version);
      case 'RolloutStarted':
      case 'RolloutCompleted':
      case 'RolloutReverted':
        return releaseId(service, event.data.release);
      default:
        throw new Error(`releases do not handle ${event.type}`);
    }
  },
  evolve(row, event) {
    const at = event.at.toISOString();
    if (event.type === 'ReleaseCreated') {
      const { version, digest, spec, env, secretNames } = event.data;
      const service = aggregateId(event.streamId);
      return {
        id: releaseId(service, version),
        service_id: service,
        version,
        digest,
        spec,
        env: env ?? {},
        secret_names: secretNames,
        created_at: at,
        rollout_started_at: null,
        rolled_out_at: null,
        reverted_at: null,
        revert_reason: null,
      };
    }
    if (!row) return undefined;
    switch (event.type) {
      case 'RolloutStarted':
        return { ...row, rollout_started_at: at };
      case 'RolloutCompleted':
        return { ...row, rolled_out_at: at };
      case 'RolloutReverted':
        return { ...row, reverted_at: at, revert_reason: event.data.reason };
      default:
        return undefined;
    }
  },
};
