// Which instances may leave a draining host now (DESIGN §7, issue 6 item 6): at most
// `maxParallel` per host are in flight, each until its replacement is ready and it is stopped.
// Level-based without bookkeeping: the permitted ones are the first `maxParallel` live
// instances of the host in a fixed order. Nothing new lands on a draining host, so the list
// only shrinks, and an instance keeps its permit until it is stopped. Past the deadline every
// instance may leave.
import type { FleetHostRow, FleetInstanceRow, FleetVolumeRow } from './fleet-rows.js';

/** An instance whose volume lives on its host cannot move without its data. */
export const isStranded = (instance: FleetInstanceRow, volumes: readonly FleetVolumeRow[]): boolean =>
  volumes.some((v) => v.service === instance.service && v.host === instance.host);

export function drainPermits(
  hosts: readonly FleetHostRow[],
  live: readonly FleetInstanceRow[],
  volumes: readonly FleetVolumeRow[],
  now: Date,
): Set<string> {
  const permits = new Set<string>();
  for (const host of hosts) {
    if (host.drain === null || host.status !== 'active') continue;
    const movable = live.filter((i) => i.host === host.id && !isStranded(i, volumes));
    const pastDeadline = Date.parse(host.drain.deadline) <= now.getTime();
    const limit = pastDeadline ? movable.length : host.drain.maxParallel;
    for (const instance of interleaveServices(movable).slice(0, limit)) permits.add(instance.id);
  }
  return permits;
}

/**
 * Oldest first within a service, round-robin across services (as `planReschedule` does), so
 * one wave takes as few replicas of any service as it can.
 */
function interleaveServices(instances: readonly FleetInstanceRow[]): FleetInstanceRow[] {
  const byAge = [...instances].sort((a, b) => a.placedAt.getTime() - b.placedAt.getTime() || a.id.localeCompare(b.id));
  const rank = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const i of byAge) {
    const n = seen.get(i.service) ?? 0;
    rank.set(i.id, n);
    seen.set(i.service, n + 1);
  }
  return byAge.sort((a, b) => rank.get(a.id)! - rank.get(b.id)! || a.placedAt.getTime() - b.placedAt.getTime() || a.id.localeCompare(b.id));
}
