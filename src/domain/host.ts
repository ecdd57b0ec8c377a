// The host aggregate (stream `host-<id>`): enroll, cordon, drain, lose, recover, decommission.
// Cordon is a flag beside the lifecycle status: a lost host can be cordoned, a draining one is.
import { ConflictError, NotFoundError, ValidationError, type BerthError } from '../core/errors.js';
import type { Resources } from '../core/resources.js';
import { err, ok } from '../core/result.js';
import type { Decider, Decision } from './decider.js';
import type { BerthEvent, HostEvent, HostMachine } from './events.js';

export type HostCommand =
  | {
      readonly type: 'EnrollHost';
      readonly name: string;
      readonly address: string;
      readonly region: string;
      readonly capacity: Resources;
      readonly labels: Record<string, string>;
      readonly machine?: HostMachine;
    }
  | { readonly type: 'CordonHost'; readonly reason: string }
  | { readonly type: 'UncordonHost' }
  | { readonly type: 'DrainHost'; readonly deadline: Date; readonly maxParallel: number; readonly now: Date }
  | { readonly type: 'CompleteDrain' }
  | { readonly type: 'MarkHostLost'; readonly lastSeen: Date }
  | { readonly type: 'RecoverHost' }
  /** `volumes`: the volumes still on the host, read by the shell from the volumes it knows. */
  | { readonly type: 'DecommissionHost'; readonly volumes: readonly string[] };

export interface HostState {
  readonly status: 'absent' | 'active' | 'lost' | 'decommissioned';
  readonly name: string;
  readonly region: string;
  readonly capacity: Resources;
  readonly labels: Readonly<Record<string, string>>;
  readonly cordoned: boolean;
  readonly drain: { readonly deadline: string; readonly maxParallel: number } | null;
}

export const initialHostState = (): HostState => ({
  status: 'absent',
  name: '',
  region: '',
  capacity: { memory: 0, cpu: 0 },
  labels: {},
  cordoned: false,
  drain: null,
});

export function evolveHost(state: HostState, event: BerthEvent): HostState {
  switch (event.type) {
    case 'HostEnrolled': {
      const { name, region, capacity, labels } = event.data;
      return { ...state, status: 'active', name, region, capacity, labels };
    }
    case 'HostCordoned':
      return { ...state, cordoned: true };
    case 'HostUncordoned':
      // Uncordon also calls off a drain in progress: the host takes placements again.
      return { ...state, cordoned: false, drain: null };
    case 'HostDrainStarted':
      return { ...state, cordoned: true, drain: { deadline: event.data.deadline, maxParallel: event.data.maxParallel } };
    case 'HostDrainCompleted':
      return { ...state, drain: null };
    case 'HostLost':
      return { ...state, status: 'lost' };
    case 'HostRecovered':
      return { ...state, status: 'active' };
    case 'HostDecommissioned':
      return { ...state, status: 'decommissioned', drain: null };
    default:
      return state;
  }
}

function existingHostRejection(state: HostState): BerthError | undefined {
  if (state.status === 'absent') return new NotFoundError('the host is not enrolled; enroll it with berth agent --join');
  if (state.status === 'decommissioned') {
    return new ConflictError(`host ${state.name} is decommissioned; enroll the machine again as a new host`, { host: state.name });
  }
  return undefined;
}

export function decideHost(command: HostCommand, state: HostState): Decision<HostEvent> {
  if (command.type === 'EnrollHost') {
    if (state.status !== 'absent') return err(new ConflictError(`host ${state.name} is already enrolled`, { host: state.name }));
    const { name, address, region, capacity, labels } = command;
    if (!(capacity.memory > 0)) return err(new ValidationError(`capacity.memory: ${capacity.memory} bytes; a host needs memory`, { capacity }));
    if (!(capacity.cpu > 0)) return err(new ValidationError(`capacity.cpu: ${capacity.cpu} millicores; a host needs CPU`, { capacity }));
    const machine = command.machine === undefined ? {} : { machine: command.machine };
    return ok([{ type: 'HostEnrolled', data: { name, address, region, capacity, labels, ...machine } }]);
  }
  if (command.type === 'DecommissionHost' && state.status === 'decommissioned') return ok([]);
  const rejection = existingHostRejection(state);
  if (rejection) return err(rejection);

  switch (command.type) {
    case 'CordonHost':
      return state.cordoned ? ok([]) : ok([{ type: 'HostCordoned', data: { reason: command.reason } }]);
    case 'UncordonHost':
      return state.cordoned ? ok([{ type: 'HostUncordoned', data: {} }]) : ok([]);
    case 'DrainHost': {
      const { deadline, maxParallel, now } = command;
      if (state.status === 'lost') {
        return err(new ConflictError(`host ${state.name} is lost; its instances are replaced without a drain`, { host: state.name }));
      }
      if (Number.isNaN(deadline.getTime()) || deadline.getTime() <= now.getTime()) {
        return err(new ValidationError(`drain deadline: ${Number.isNaN(deadline.getTime()) ? 'not a valid date' : `${deadline.toISOString()} is not after now (${now.toISOString()})`}; give a duration such as --deadline 10m`));
      }
      if (!Number.isSafeInteger(maxParallel) || maxParallel < 1) {
        return err(new ValidationError(`drain max parallel: ${maxParallel} is not a whole number of 1 or more`, { maxParallel }));
      }
      return ok([{ type: 'HostDrainStarted', data: { deadline: deadline.toISOString(), maxParallel } }]);
    }
    case 'CompleteDrain':
      return state.drain ? ok([{ type: 'HostDrainCompleted', data: {} }]) : ok([]);
    case 'MarkHostLost':
      return state.status === 'lost' ? ok([]) : ok([{ type: 'HostLost', data: { lastSeen: command.lastSeen.toISOString() } }]);
    case 'RecoverHost':
      return state.status === 'lost' ? ok([{ type: 'HostRecovered', data: {} }]) : ok([]);
    case 'DecommissionHost': {
      if (command.volumes.length > 0) {
        return err(
          new ConflictError(
            `host ${state.name} still holds volumes ${command.volumes.join(', ')}; move or delete them before decommissioning`,
            { host: state.name, volumes: [...command.volumes] },
          ),
        );
      }
      if (!state.cordoned && state.status !== 'lost') {
        return err(
          new ConflictError(`host ${state.name} still takes placements; drain it first (berth host drain ${state.name})`, {
            host: state.name,
          }),
        );
      }
      return ok([{ type: 'HostDecommissioned', data: {} }]);
    }
  }
}

export const hostDecider: Decider<HostCommand, HostState, BerthEvent> = {
  initialState: initialHostState,
  evolve: evolveHost,
  decide: decideHost,
};
