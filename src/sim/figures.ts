// Quality figures of a plan (issue 3, "Quality figures"):
// packing_ratio = allocatable memory of the hosts holding at least one instance ÷ memory of
// every instance on them (1.0 is perfect: the empty hosts are what an operator can turn off);
// zone_skew = per region, max − min instances per zone, the worst region reported.
import { parseSize } from '../core/quantity.js';
import type { FleetFile } from './fleet-file.js';
import type { PlanFile } from './plan-file.js';
import type { WorkloadFile } from './workload-file.js';

export interface PlanFigures {
  readonly hosts: number;
  readonly instances: number;
  readonly placed: number;
  readonly unplaceable: number;
  readonly hosts_used: number;
  readonly packing_ratio: number;
  readonly zone_skew: number;
  /** The worst service: max − min of its replicas per zone of its region. */
  readonly service_zone_skew: number;
}

const size = (value: string | number): number => {
  const parsed = parseSize(value);
  return parsed.ok ? parsed.value : 0;
};

export function planFigures(fleet: FleetFile, workload: WorkloadFile, plan: PlanFile): PlanFigures {
  const allocatable = new Map<string, number>();
  const zoneOf = new Map<string, string>();
  const zonesOfRegion = new Map<string, Set<string>>();
  for (const h of fleet.hosts) {
    allocatable.set(h.id, size(h.memory) - (h.reserved === undefined ? 0 : size(h.reserved)) - (h.safety_buffer === undefined ? 0 : size(h.safety_buffer)));
    const zone = h.labels?.zone;
    if (zone === undefined) continue;
    zoneOf.set(h.id, zone);
    if ((h.state ?? 'schedulable') !== 'schedulable') continue;
    let zones = zonesOfRegion.get(h.region);
    if (zones === undefined) zonesOfRegion.set(h.region, (zones = new Set()));
    zones.add(zone);
  }
  const memoryOf = new Map<string, number>();
  const regionOf = new Map<string, string | undefined>();
  for (const s of workload.services) {
    memoryOf.set(s.name, size(s.memory));
    regionOf.set(s.name, s.region);
  }

  const used = new Set<string>();
  let requested = 0;
  const perZone = new Map<string, number>();
  const perServiceZone = new Map<string, Map<string, number>>();
  const count = (host: string, service: string | undefined): void => {
    used.add(host);
    const zone = zoneOf.get(host);
    if (zone === undefined) return;
    perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
    if (service === undefined) return;
    let zones = perServiceZone.get(service);
    if (zones === undefined) perServiceZone.set(service, (zones = new Map()));
    zones.set(zone, (zones.get(zone) ?? 0) + 1);
  };
  for (const i of fleet.instances ?? []) {
    requested += size(i.memory);
    count(i.host, undefined);
  }
  for (const p of plan.placements) {
    requested += memoryOf.get(p.service) ?? 0;
    count(p.host, p.service);
  }

  let usedAllocatable = 0;
  for (const h of used) usedAllocatable += allocatable.get(h) ?? 0;

  const skew = (zones: Iterable<string>, counts: ReadonlyMap<string, number>): number => {
    let min = Infinity;
    let max = -Infinity;
    for (const z of zones) {
      const n = counts.get(z) ?? 0;
      min = Math.min(min, n);
      max = Math.max(max, n);
    }
    return max >= min ? max - min : 0;
  };
  let zoneSkew = 0;
  for (const zones of zonesOfRegion.values()) zoneSkew = Math.max(zoneSkew, skew(zones, perZone));
  let serviceSkew = 0;
  for (const [service, counts] of perServiceZone) {
    const region = regionOf.get(service);
    const zones = region === undefined ? counts.keys() : (zonesOfRegion.get(region) ?? counts.keys());
    serviceSkew = Math.max(serviceSkew, skew(zones, counts));
  }

  const instances = workload.services.reduce((s, x) => s + x.replicas, 0);
  return {
    hosts: fleet.hosts.length,
    instances,
    placed: plan.placements.length,
    unplaceable: plan.unplaceable.length,
    hosts_used: used.size,
    packing_ratio: requested > 0 ? Math.round((usedAllocatable / requested) * 10000) / 10000 : 1,
    zone_skew: zoneSkew,
    service_zone_skew: serviceSkew,
  };
}
