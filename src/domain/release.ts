// Release rules of the service aggregate: create a release, roll it out, complete or revert.
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { err, ok } from '../core/result.js';
import type { ServiceSpec } from '../spec/service.js';
import type { Decision } from './decider.js';
import type { ServiceEvent } from './events.js';
import { liveServiceRejection, type ServiceState } from './service-state.js';

export type ReleaseCommand =
  | {
      readonly type: 'CreateRelease';
      /** Omitted: the next version after the latest. Given: must be above the latest. */
      readonly version?: number;
      readonly digest: string;
      readonly spec: ServiceSpec;
      readonly env?: Record<string, string>;
      readonly secretNames: readonly string[];
    }
  | { readonly type: 'StartRollout'; readonly release: number }
  | { readonly type: 'CompleteRollout'; readonly release: number }
  | { readonly type: 'RevertRollout'; readonly reason: string };

const latest = (state: ServiceState): number => state.releases.at(-1) ?? 0;

export function decideRelease(command: ReleaseCommand, state: ServiceState): Decision<ServiceEvent> {
  const rejection = liveServiceRejection(state);
  if (rejection) return err(rejection);
  switch (command.type) {
    case 'CreateRelease': {
      const version = command.version ?? latest(state) + 1;
      if (!Number.isSafeInteger(version) || version < 1) {
        return err(new ValidationError(`release version: ${version} is not a positive whole number`, { version }));
      }
      if (version <= latest(state)) {
        return err(
          new ConflictError(`release version: ${version} is not above the latest release ${latest(state)}; versions only increase`, {
            version,
            latest: latest(state),
          }),
        );
      }
      if (command.digest === '') return err(new ValidationError('release digest: empty; pass the artifact digest (sha256:…)'));
      const { digest, spec, env, secretNames } = command;
      return ok([
        { type: 'ReleaseCreated', data: { version, digest, spec, ...(env ? { env } : {}), secretNames: [...secretNames] } },
      ]);
    }
    case 'StartRollout': {
      if (!state.releases.includes(command.release)) {
        return err(
          new NotFoundError(`release ${command.release} does not exist; releases are ${state.releases.join(', ') || 'none yet'}`, {
            release: command.release,
          }),
        );
      }
      const settled = state.rollout === null && state.activeRelease === command.release;
      const already = state.rollout?.release === command.release;
      if (settled || already) return ok([]);
      // A newer rollout supersedes one in progress; the release it replaces is still the live one.
      return ok([{ type: 'RolloutStarted', data: { release: command.release, previous: state.activeRelease } }]);
    }
    case 'CompleteRollout': {
      if (state.rollout?.release !== command.release) {
        if (state.activeRelease === command.release) return ok([]);
        return err(new ConflictError(`release ${command.release} is not rolling out; nothing to complete`, { rollout: state.rollout }));
      }
      return ok([{ type: 'RolloutCompleted', data: { release: command.release } }]);
    }
    case 'RevertRollout': {
      if (state.rollout === null) return err(new ConflictError('no rollout is in progress; nothing to revert'));
      if (state.rollout.previous === null) {
        return err(
          new ConflictError(
            `release ${state.rollout.release} is the first to roll out; there is no earlier release to revert to (fix it and deploy again)`,
          ),
        );
      }
      return ok([
        { type: 'RolloutReverted', data: { release: state.rollout.release, to: state.rollout.previous, reason: command.reason } },
      ]);
    }
  }
}
