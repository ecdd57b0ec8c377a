// `berth sim place` without the files: a fleet and a workload in, a plan out.
import { placeAll, type BatchResult, type PlaceOptions } from '../scheduler/place-all.js';
import type { PlacementRequest } from '../scheduler/request.js';
import { fleetFromFile, type FleetFile } from './fleet-file.js';
import type { PlanFile } from './plan-file.js';
import { requestsFromWorkload, type WorkloadFile } from './workload-file.js';

export interface PlacedWorkload {
  readonly plan: PlanFile;
  readonly requests: readonly PlacementRequest[];
  readonly result: BatchResult;
}

export function placeWorkload(fleet: FleetFile, workload: WorkloadFile, options: PlaceOptions = {}): PlacedWorkload {
  const requests = requestsFromWorkload(workload);
  const result = placeAll(fleetFromFile(fleet), requests, options);
  return { plan: planFromResult(result, options), requests, result };
}

export function planFromResult(result: BatchResult, options: PlaceOptions = {}): PlanFile {
  return {
    ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
    seed: options.seed ?? 0,
    placements: result.placements.map(({ request, host }) => ({ service: request.service, replica: request.replica, host })),
    unplaceable: result.unplaceable.map(({ request, reasons }) => ({
      service: request.service,
      replica: request.replica,
      reasons: reasons.map((r) => ({ ...r })),
    })),
  };
}
