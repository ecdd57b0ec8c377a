// A secret change reaches instances only at their start, so it rolls the service: a new release
// with the code, spec and env of the release in force (the rolling one, else the live one) and
// the changed secret names, rolled out like any deploy (health-gated, maxSurge/maxUnavailable).
import type { ServiceCommand } from '../domain/service.js';
import { releaseInForce } from '../domain/service-state.js';
import type { ReleaseRow } from '../store/projections/releases.js';
import type { EventStore } from '../store/event-store.js';
import { runServiceCommands } from './service-commands.js';

export interface SecretRollout {
  readonly release: number | null;
  readonly rolloutStarted: boolean;
}

export async function rollForSecrets(
  store: EventStore,
  serviceId: string,
  secretNames: (current: readonly string[]) => readonly string[],
  actor: string,
): Promise<SecretRollout> {
  let release: number | null = null;
  const result = await runServiceCommands(
    store,
    serviceId,
    async (state): Promise<ServiceCommand[]> => {
      const base = releaseInForce(state);
      if (base === null) return [];
      const [row] = await store.driver.query<Pick<ReleaseRow, 'digest' | 'spec' | 'env' | 'secret_names'>>(
        'SELECT digest, spec, env, secret_names FROM releases WHERE service_id = $1 AND version = $2',
        [serviceId, base],
      );
      if (row === undefined) throw new Error(`service ${serviceId}: release ${base} is in its stream but not in the releases table`);
      release = (state.releases.at(-1) ?? 0) + 1;
      return [
        { type: 'CreateRelease', version: release, digest: row.digest, spec: row.spec, env: { ...row.env }, secretNames: [...secretNames(row.secret_names)] },
        { type: 'StartRollout', release },
      ];
    },
    { actor },
  );
  return { release: result.events.length > 0 ? release : null, rolloutStarted: result.events.some((e) => e.type === 'RolloutStarted') };
}
