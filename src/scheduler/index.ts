// The scheduler's public surface: what the reconciler, `berth explain` and the simulator use.
export type { Cluster, Fleet, Host, HostMemory, HostState, PlacedInstance, Strategy, Volume } from './fleet.js';
export { allocatableMemory, DEFAULT_CPU_OVERCOMMIT } from './fleet.js';
export type { PlacementConstraints, PlacementRequest } from './request.js';
export { instanceName } from './request.js';
export type { Reason } from './reason.js';
export { place, type PlaceResult } from './place.js';
export { placeAll, type BatchResult, type PlaceOptions, type Placement, type Unplaceable } from './place-all.js';
export { explain, type Explanation, type FilteredHosts, type RankedCandidate } from './explain.js';
export { formatExplanation } from './format-explanation.js';
export { planReschedule, type Move, type ReschedulePlan, type RescheduleOptions, type Stranded, type StuckInstance } from './reschedule.js';
