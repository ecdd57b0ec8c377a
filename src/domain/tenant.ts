// The tenant aggregate (stream `tenant-<id>`): for now, which secrets exist and at which version.
// Values never enter the log; the vault holds them sealed, and SecretSet records only that
// version N of a name was stored, so who changed which secret when stays auditable.
import { ValidationError } from '../core/errors.js';
import { err, ok } from '../core/result.js';
import type { Decider, Decision } from './decider.js';
import type { BerthEvent, TenantEvent } from './events.js';

export type TenantCommand =
  /** `version`: what the vault assigned when it stored the value. */
  | { readonly type: 'RecordSecretSet'; readonly name: string; readonly version: number }
  | { readonly type: 'RecordSecretDeleted'; readonly name: string };

export interface TenantState {
  /** secret name -> the version last recorded */
  readonly secrets: Readonly<Record<string, number>>;
}

export const initialTenantState = (): TenantState => ({ secrets: {} });

export function evolveTenant(state: TenantState, event: BerthEvent): TenantState {
  switch (event.type) {
    case 'SecretSet':
      return { secrets: { ...state.secrets, [event.data.name]: event.data.version } };
    case 'SecretDeleted': {
      const { [event.data.name]: _gone, ...secrets } = state.secrets;
      return { secrets };
    }
    default:
      return state;
  }
}

export function decideTenant(command: TenantCommand, state: TenantState): Decision<TenantEvent> {
  switch (command.type) {
    case 'RecordSecretSet':
      if (!Number.isSafeInteger(command.version) || command.version < 1) {
        return err(new ValidationError(`secret version: ${command.version} is not a positive whole number`));
      }
      if (state.secrets[command.name] === command.version) return ok([]);
      return ok([{ type: 'SecretSet', data: { name: command.name, version: command.version } }]);
    case 'RecordSecretDeleted':
      return state.secrets[command.name] === undefined ? ok([]) : ok([{ type: 'SecretDeleted', data: { name: command.name } }]);
  }
}

export const tenantDecider: Decider<TenantCommand, TenantState, BerthEvent> = {
  initialState: initialTenantState,
  evolve: evolveTenant,
  decide: decideTenant,
};
