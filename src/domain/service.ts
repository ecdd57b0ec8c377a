// The service aggregate (stream `service-<id>`): its spec, scaling, bursts, and through
// release.ts and instance.ts its releases and placement records.
import { ConflictError, ValidationError } from '../core/errors.js';
import { err, ok } from '../core/result.js';
import type { ScaleSpec } from '../spec/scale.js';
import type { ServiceSpec } from '../spec/service.js';
import type { Decider, Decision } from './decider.js';
import type { BerthEvent, ServiceEvent } from './events.js';
import { jsonEqual } from './json-equal.js';
import { decideInstance, type InstanceCommand } from './instance.js';
import { decideRelease, type ReleaseCommand } from './release.js';
import { evolveService, initialServiceState, liveServiceRejection, type ServiceState } from './service-state.js';

export type ServiceCommand =
  | { readonly type: 'CreateService'; readonly name: string; readonly tenant: string; readonly spec: ServiceSpec }
  | { readonly type: 'ChangeServiceSpec'; readonly spec: ServiceSpec }
  | { readonly type: 'DeleteService' }
  | { readonly type: 'SetReplicas'; readonly replicas: number }
  | { readonly type: 'SetScale'; readonly scale: ScaleSpec }
  | { readonly type: 'StartBurst'; readonly replicas: number; readonly until: Date; readonly now: Date }
  | { readonly type: 'EndBurst'; readonly reason: 'expired' | 'cancelled'; readonly now: Date }
  | {
      readonly type: 'RecordAutoscaleDecision';
      readonly from: number;
      readonly to: number;
      readonly reason: string;
      readonly signals: Record<string, number>;
      readonly now: Date;
    }
  | ReleaseCommand
  | InstanceCommand;

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** A burst counts while its expiry is ahead of `now`, even before the reconciler ends it. */
const activeBurst = (state: ServiceState, now: Date): number =>
  state.burst && Date.parse(state.burst.until) > now.getTime() ? state.burst.replicas : 0;

export function decideService(command: ServiceCommand, state: ServiceState): Decision<ServiceEvent> {
  switch (command.type) {
    case 'CreateService': {
      if (state.status !== 'absent') {
        return err(new ConflictError(`service ${state.name} already exists; change it with a deploy instead`, { service: state.name }));
      }
      if (command.tenant === '') return err(new ValidationError('tenant: empty; every service belongs to a tenant'));
      const { name, tenant, spec } = command;
      return ok([{ type: 'ServiceCreated', data: { name, tenant, spec } }]);
    }
    case 'CreateRelease':
    case 'StartRollout':
    case 'CompleteRollout':
    case 'RevertRollout':
      return decideRelease(command, state);
    case 'PlaceInstance':
    case 'RequestInstanceStop':
      return decideInstance(command, state);
    case 'DeleteService':
      if (state.status === 'deleted') return ok([]);
      break;
    default:
      break;
  }
  const rejection = liveServiceRejection(state);
  if (rejection) return err(rejection);

  switch (command.type) {
    case 'ChangeServiceSpec': {
      // Applying the same berth.yaml twice records nothing.
      if (jsonEqual(command.spec, state.spec)) return ok([]);
      const { spec } = command;
      const events: ServiceEvent[] = [{ type: 'ServiceSpecChanged', data: { spec } }];
      // The file wins only where the file changed: a `berth scale` since the last deploy stays
      // unless this spec sets replicas or scale differently from the previous one.
      if (spec.replicas !== state.spec?.replicas || !jsonEqual(spec.scale, state.spec?.scale)) {
        events.push(spec.scale ? { type: 'ScaleSpecSet', data: spec.scale } : { type: 'ReplicasSet', data: { replicas: spec.replicas ?? 1 } });
      }
      return ok(events);
    }
    case 'DeleteService':
      return ok([{ type: 'ServiceDeleted', data: {} }]);
    case 'SetReplicas': {
      const { replicas } = command;
      if (!isCount(replicas)) {
        return err(new ValidationError(`replicas: ${replicas} is not a whole number of 0 or more`, { replicas }));
      }
      if (state.scaling.mode === 'fixed' && state.scaling.replicas === replicas) return ok([]);
      return ok([{ type: 'ReplicasSet', data: { replicas } }]);
    }
    case 'SetScale': {
      const { scale } = command;
      const { min, max } = scale;
      if (!isCount(min)) return err(new ValidationError(`scale.min: ${min} is not a whole number of 0 or more`, { min }));
      if (!isCount(max) || max < 1) return err(new ValidationError(`scale.max: ${max} is not a whole number of 1 or more`, { max }));
      if (min > max) return err(new ValidationError(`scale: min ${min} is above max ${max}; lower min or raise max`, { min, max }));
      if (state.scaling.mode === 'auto') {
        const { mode: _mode, desired: _desired, ...current } = state.scaling;
        if (jsonEqual(current, scale)) return ok([]);
      }
      return ok([{ type: 'ScaleSpecSet', data: scale }]);
    }
    case 'StartBurst': {
      const { replicas, until, now } = command;
      if (!Number.isSafeInteger(replicas) || replicas < 1) {
        return err(new ValidationError(`burst replicas: ${replicas} is not a whole number of 1 or more`, { replicas }));
      }
      if (Number.isNaN(until.getTime()) || until.getTime() <= now.getTime()) {
        const shown = Number.isNaN(until.getTime()) ? String(until) : until.toISOString();
        return err(
          new ValidationError(`burst expiry: ${shown} is not after now (${now.toISOString()}); give a duration such as --for 30m`, {
            until: shown,
            now: now.toISOString(),
          }),
        );
      }
      return ok([{ type: 'BurstStarted', data: { replicas, until: until.toISOString() } }]);
    }
    case 'EndBurst': {
      if (state.burst === null) return ok([]);
      if (command.reason === 'expired' && Date.parse(state.burst.until) > command.now.getTime()) {
        return err(new ConflictError(`the burst lasts until ${state.burst.until}; it has not expired`, { until: state.burst.until }));
      }
      return ok([{ type: 'BurstEnded', data: { reason: command.reason } }]);
    }
    case 'RecordAutoscaleDecision': {
      const { from, to, reason, signals, now } = command;
      const s = state.scaling;
      if (s.mode !== 'auto') {
        return err(new ConflictError('the service has fixed replicas; set scale bounds before autoscaling it', { replicas: s.replicas }));
      }
      if (from !== s.desired) {
        // Decided on stale input: the autoscaler recomputes on its next tick.
        return err(new ConflictError(`autoscale decision from ${from} is stale; the service now wants ${s.desired}`, { from, desired: s.desired }));
      }
      const ceiling = Math.max(s.max, activeBurst(state, now));
      if (!isCount(to) || to < s.min || to > ceiling) {
        return err(new ValidationError(`autoscale to: ${to} is outside [${s.min}, ${ceiling}]`, { to, min: s.min, max: ceiling }));
      }
      return ok([{ type: 'AutoscaleDecided', data: { from, to, reason, signals } }]);
    }
  }
}

export const serviceDecider: Decider<ServiceCommand, ServiceState, BerthEvent> = {
  initialState: initialServiceState,
  evolve: evolveService,
  decide: decideService,
};
