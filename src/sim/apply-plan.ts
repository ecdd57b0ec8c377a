// A fleet as a plan leaves it: the plan's placements become running instances. `berth sim
// explain --plan` uses it to ask where an instance would go on the fleet the plan built.
import type { Fleet, PlacedInstance } from '../scheduler/fleet.js';
import { instanceName, type PlacementRequest } from '../scheduler/request.js';
import type { PlanFile } from './plan-file.js';

export function applyPlan(fleet: Fleet, requests: readonly PlacementRequest[], plan: PlanFile, except?: string): Fleet {
  const byName = new Map<string, PlacementRequest>();
  for (const r of requests) byName.set(instanceName(r), r);
  const placed: PlacedInstance[] = [];
  for (const p of plan.placements) {
    const name = `${p.service}/${p.replica}`;
    const request = byName.get(name);
    if (request === undefined || name === except) continue;
    placed.push({
      id: name,
      service: p.service,
      replica: p.replica,
      host: p.host,
      resources: request.resources,
      ...(request.ports === undefined ? {} : { ports: request.ports }),
      ...(request.volume === undefined ? {} : { volume: request.volume.name }),
      ...(request.placement === undefined ? {} : { placement: request.placement }),
    });
  }
  return { ...fleet, instances: [...fleet.instances, ...placed] };
}
