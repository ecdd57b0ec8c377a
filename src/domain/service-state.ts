// What the service aggregate remembers between commands: enough to enforce its rules, no more.
// Stopped instances are forgotten (their teardown is observed state, not the aggregate's).
import { ConflictError, NotFoundError, type BerthError } from '../core/errors.js';
import type { ScaleSpec } from '../spec/scale.js';
import type { ServiceSpec } from '../spec/service.js';
import type { BerthEvent } from './events.js';

export type Scaling =
  | { readonly mode: 'fixed'; readonly replicas: number }
  /** `desired` is the autoscaler's last decision: within [min, max], max raised while a burst lasts. */
  | ({ readonly mode: 'auto'; readonly desired: number } & ScaleSpec);

export interface PlacedInstance {
  readonly host: string;
  readonly release: number;
  readonly replica: number;
}

export interface ServiceState {
  readonly status: 'absent' | 'active' | 'deleted';
  readonly name: string;
  readonly tenant: string;
  readonly spec: ServiceSpec | null;
  readonly scaling: Scaling;
  readonly burst: { readonly replicas: number; readonly until: string } | null;
  /** Ascending; versions only grow. */
  readonly releases: readonly number[];
  /** The release serving traffic once its rollout completed. */
  readonly activeRelease: number | null;
  readonly rollout: { readonly release: number; readonly previous: number | null } | null;
  readonly instances: Readonly<Record<string, PlacedInstance>>;
}

export const initialServiceState = (): ServiceState => ({
  status: 'absent',
  name: '',
  tenant: '',
  spec: null,
  scaling: { mode: 'fixed', replicas: 0 },
  burst: null,
  releases: [],
  activeRelease: null,
  rollout: null,
  instances: {},
});

const clamp = (n: number, min: number, max: number): number => Math.min(Math.max(n, min), max);

/** How many instances the service wants now, before any burst floor. */
/** The release instances run (or are moving to) now: the one rolling out, else the live one, else the latest; null before the first. */
export const releaseInForce = (state: Pick<ServiceState, 'rollout' | 'activeRelease' | 'releases'>): number | null =>
  state.rollout?.release ?? state.activeRelease ?? state.releases.at(-1) ?? null;

export const desiredReplicas = (scaling: Scaling): number => (scaling.mode === 'fixed' ? scaling.replicas : scaling.desired);

export function evolveService(state: ServiceState, event: BerthEvent): ServiceState {
  switch (event.type) {
    case 'ServiceCreated': {
      const { name, tenant, spec } = event.data;
      const scaling: Scaling = spec.scale
        ? { mode: 'auto', ...spec.scale, desired: spec.scale.min }
        : { mode: 'fixed', replicas: spec.replicas ?? 1 };
      return { ...state, status: 'active', name, tenant, spec, scaling };
    }
    case 'ServiceSpecChanged':
      return { ...state, spec: event.data.spec };
    case 'ServiceDeleted':
      return { ...state, status: 'deleted', rollout: null, burst: null };
    case 'ReleaseCreated':
      return { ...state, releases: [...state.releases, event.data.version] };
    case 'RolloutStarted':
      return { ...state, rollout: { release: event.data.release, previous: event.data.previous } };
    case 'RolloutCompleted':
      return { ...state, activeRelease: event.data.release, rollout: null };
    case 'RolloutReverted':
      return { ...state, activeRelease: event.data.to, rollout: null };
    case 'ScaleSpecSet': {
      const desired = clamp(desiredReplicas(state.scaling), event.data.min, event.data.max);
      return { ...state, scaling: { mode: 'auto', ...event.data, desired } };
    }
    case 'ReplicasSet':
      return { ...state, scaling: { mode: 'fixed', replicas: event.data.replicas } };
    case 'AutoscaleDecided':
      return state.scaling.mode === 'auto' ? { ...state, scaling: { ...state.scaling, desired: event.data.to } } : state;
    case 'BurstStarted':
      return { ...state, burst: { replicas: event.data.replicas, until: event.data.until } };
    case 'BurstEnded':
      return { ...state, burst: null };
    case 'InstancePlaced': {
      const { instance, host, release, replica } = event.data;
      return { ...state, instances: { ...state.instances, [instance]: { host, release, replica } } };
    }
    case 'InstanceStopRequested': {
      const { [event.data.instance]: _stopped, ...instances } = state.instances;
      return { ...state, instances };
    }
    default:
      return state;
  }
}

/** Every command but create (and stopping what still runs) needs a service that exists and is not deleted. */
export function liveServiceRejection(state: ServiceState): BerthError | undefined {
  if (state.status === 'absent') return new NotFoundError('the service does not exist; create it first with berth deploy');
  if (state.status === 'deleted') {
    return new ConflictError(`service ${state.name} is deleted; a deleted service takes no changes (deploy it again under a new name)`, {
      service: state.name,
    });
  }
  return undefined;
}
