// Placement records of the service aggregate. Where an instance fits is the scheduler's call;
// this only keeps the record straight: a live service, a real release, one record per instance.
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { err, ok } from '../core/result.js';
import type { Decision } from './decider.js';
import type { ServiceEvent } from './events.js';
import { liveServiceRejection, type ServiceState } from './service-state.js';

export type InstanceCommand =
  | {
      readonly type: 'PlaceInstance';
      readonly instance: string;
      readonly host: string;
      readonly release: number;
      readonly port: number | null;
      readonly replica: number;
    }
  | { readonly type: 'RequestInstanceStop'; readonly instance: string; readonly reason: string };

const isPort = (port: number): boolean => Number.isInteger(port) && port >= 1 && port <= 65_535;

export function decideInstance(command: InstanceCommand, state: ServiceState): Decision<ServiceEvent> {
  switch (command.type) {
    case 'PlaceInstance': {
      const rejection = liveServiceRejection(state);
      if (rejection) return err(rejection);
      const { instance, host, release, port, replica } = command;
      if (!state.releases.includes(release)) {
        return err(new NotFoundError(`release ${release} does not exist; place instances of an existing release`, { release }));
      }
      if (state.instances[instance]) {
        return err(new ConflictError(`instance ${instance} is already placed on host ${state.instances[instance].host}`, { instance }));
      }
      if (!Number.isInteger(replica) || replica < 0) {
        return err(new ValidationError(`replica: ${replica} is not a whole number of 0 or more`, { replica }));
      }
      if (port !== null && !isPort(port)) {
        return err(new ValidationError(`port: ${port} is not a TCP port; use 1-65535`, { port }));
      }
      return ok([{ type: 'InstancePlaced', data: { instance, host, release, port, replica } }]);
    }
    case 'RequestInstanceStop': {
      // Allowed on a deleted service: its instances still have to go.
      if (state.status === 'absent') return err(new NotFoundError('the service does not exist'));
      if (!state.instances[command.instance]) {
        return err(new NotFoundError(`instance ${command.instance} is not placed (already stopped?)`, { instance: command.instance }));
      }
      return ok([{ type: 'InstanceStopRequested', data: { instance: command.instance, reason: command.reason } }]);
    }
  }
}
