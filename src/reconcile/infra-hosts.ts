// `scalable` / `scale_strategy` (issue 7 item 3): a service bound to fixed host ports is `infra`,
// at most one instance per host, scaled across hosts. How many hosts can take one is the
// scheduler's answer over the current fleet, so asking for more is refused up front (a 400 that
// says how many can) instead of leaving instances unplaceable.
import { ValidationError } from '../core/errors.js';
import { explain, type PlacementRequest } from '../scheduler/index.js';
import type { ServiceSpec } from '../spec/service.js';
import type { SqlExecutor } from '../store/sql-driver.js';
import { buildFleet, type FleetOptions } from './build-fleet.js';
import { readFleetRows } from './fleet-rows.js';
import type { ObservedState } from './observed-state.js';

/**
 * Hosts that could run one instance of the service: every checker of the placement pipeline
 * (schedulable, memory, CPU, ports, labels, volume) with the service's own instances taken off
 * the fleet, since a host running one keeps it.
 */
export async function hostsForInfra(db: SqlExecutor, observed: ObservedState, service: string, spec: ServiceSpec, options: FleetOptions = {}): Promise<number> {
  const rows = await readFleetRows(db, observed);
  const fleet = buildFleet({ ...rows, instances: rows.instances.filter((i) => i.service !== service) }, observed, options);
  const volume = rows.volumes.find((v) => v.service === service);
  const request: PlacementRequest = {
    service,
    replica: 0,
    resources: spec.resources,
    ports: spec.ports,
    ...(volume === undefined ? {} : { volume: { name: volume.id, host: volume.host } }),
    placement: { ...(spec.placement.region === undefined ? {} : { region: spec.placement.region }), labels: spec.placement.labels },
  };
  return explain(fleet, request, { seed: `${service}/infra` }).feasible;
}

/** Refuses `count` instances of an infra service when fewer hosts can take one; a no-op for others. */
export async function assertInfraFits(
  db: SqlExecutor,
  observed: ObservedState,
  service: string,
  spec: ServiceSpec,
  count: number,
  field: string,
): Promise<void> {
  if (spec.ports.length === 0) return;
  const hosts = await hostsForInfra(db, observed, service, spec);
  if (count <= hosts) return;
  const can = hosts === 1 ? '1 host can take one' : `${hosts} hosts can take one`;
  throw new ValidationError(
    `${field}: ${count} is more than ${service} can run: it binds host port ${spec.ports.join(', ')}, so it runs at most one instance per host, and ${can}; ask for ${hosts} or fewer, or enroll (or uncordon) more hosts`,
    { service, field, requested: count, hosts, ports: spec.ports },
  );
}
