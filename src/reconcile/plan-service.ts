// The service reconciler's decision (issue 6 items 2, 3, 6), pure: from a service, the fleet and
// `now`, which instances to place and which to stop, whether its burst ended and whether its
// rollout completed or failed. The shell reads, calls this, and appends the commands at once.
//
// Every placement is sorted by its host and its release:
//  - current:  on a host in service, of the target release;
//  - outdated: on a host in service, of another release (a rollout or a revert moves past it);
//  - leaving:  on a draining host, holding one of the host's drain permits;
//  - gone:     on a lost, decommissioned or unknown host: down, replaced at once;
// and, once a rollout failed without a revert, the failed instances are left standing aside.
// An instance of a draining host without a permit counts as current or outdated until it gets one.
// Placements fill the desired count with the target release, rolling within maxSurge; outdated
// and leaving instances are stopped only while enough others stay available, so under the
// default maxUnavailable 0 an old instance goes only once its replacement is healthy.
import type { ServiceCommand } from '../domain/service.js';
import { releaseInForce } from '../domain/service-state.js';
import { placeAll, type Fleet, type PlacementRequest } from '../scheduler/index.js';
import type { ServiceSpec } from '../spec/service.js';
import { burstActive, burstExpired, desiredCount } from './desired-count.js';
import type { FleetView } from './fleet-view.js';
import { healthyFrom, isHealthy } from './instance-health.js';
import { rolloutLimits } from './rollout-limits.js';
import type { ServiceStatus, UnplacedReplica } from './service-status.js';
import type { ServiceView } from './service-view.js';
import { TerminalError } from './terminal-error.js';

export type StopReason = 'scale-in' | 'rollout' | 'drain' | 'host-lost' | 'service-deleted';

export interface ServicePlan {
  readonly commands: readonly ServiceCommand[];
  readonly status: ServiceStatus;
  /** ms until something time-based changes (a health window, a deadline, a burst's end). */
  readonly requeueAfter?: number;
}

interface Slot {
  readonly id: string;
  readonly host: string;
  readonly release: number;
  readonly replica: number;
  readonly placedAt: number;
}

/** The id of the n-th instance placed by the pass that read the stream at `version`: unique, and replayable. */
export const newInstanceId = (service: string, version: number, n: number): string => `${service}-${version}-${n}`;

export function planService(service: ServiceView, fleet: FleetView, now: Date): ServicePlan {
  const { state, id } = service;
  const at = now.getTime();
  const slots: Slot[] = Object.entries(state.instances)
    .map(([instance, p]) => ({ id: instance, ...p, placedAt: service.placedAt.get(instance)?.getTime() ?? 0 }))
    .sort((a, b) => a.placedAt - b.placedAt || a.id.localeCompare(b.id));
  const observedReady = slots.filter((s) => fleet.observed.get(s.id)?.state === 'ready').length;
  const status = (o: Partial<ServiceStatus> = {}): ServiceStatus => ({
    service: id,
    desired: 0,
    release: null,
    placed: slots.length,
    ready: observedReady,
    unplaceable: [],
    rollout: null,
    messages: [],
    at: now.toISOString(),
    ...o,
  });

  if (state.status === 'absent') return { commands: [], status: status({ messages: ['the service does not exist'] }) };
  if (state.status === 'deleted') {
    const commands = slots.map((s) => stop(s, 'service-deleted'));
    return { commands, status: status({ placed: 0, messages: slots.length > 0 ? [`stopping ${slots.length} instances of the deleted service`] : [] }) };
  }

  const commands: ServiceCommand[] = [];
  const wakeAt: number[] = [];
  if (burstExpired(state, now)) commands.push({ type: 'EndBurst', reason: 'expired', now });
  else if (burstActive(state, now) && state.burst) wakeAt.push(Date.parse(state.burst.until));
  const desired = desiredCount(state, now);

  const rollout = state.rollout;
  const target = releaseInForce(state);
  if (target === null) {
    return { commands, status: status({ desired, messages: ['no release yet: berth deploy creates one'] }) };
  }
  const specOf = (release: number): ServiceSpec => {
    const spec = service.releaseSpecs.get(release);
    if (spec === undefined) throw new TerminalError(`service ${id}: release ${release} is placed but its ReleaseCreated is missing from the stream`);
    return spec;
  };
  const targetSpec = specOf(target);
  const minHealthy = (s: Slot): number => specOf(s.release).deploy.minHealthy;
  // Healthy counts an instance as a replacement; serving is enough for one that already takes traffic.
  const available = (s: Slot): boolean => isHealthy(fleet.observed.get(s.id), minHealthy(s), now);
  const serving = (s: Slot): boolean => fleet.observed.get(s.id)?.state === 'ready';
  for (const s of slots) {
    const from = healthyFrom(fleet.observed.get(s.id), minHealthy(s));
    if (from !== undefined && from > at) wakeAt.push(from);
  }

  // ---- rollout health: a new instance has healthyDeadline from its placement (or the rollout's start) ----
  const rolling = rollout !== null && rollout.release === target;
  const failed: Slot[] = [];
  if (rolling) {
    const deadline = targetSpec.deploy.healthyDeadline;
    const startedAt = service.rolloutStartedAt?.getTime() ?? 0;
    for (const s of slots) {
      if (s.release !== target || available(s) || isGone(s, fleet)) continue;
      const due = Math.max(s.placedAt, startedAt) + deadline;
      if (due > at) wakeAt.push(due);
      else failed.push(s);
    }
  }
  const failure =
    failed[0] === undefined
      ? undefined
      : `instance ${failed[0].id} of release ${target} was not healthy within ${formatMs(targetSpec.deploy.healthyDeadline)} (${describeObserved(fleet, failed[0].id, at)})`;
  if (rollout !== null && failure !== undefined && targetSpec.deploy.autoRevert && rollout.previous !== null) {
    // One step at a time: once the revert is recorded, the next pass rolls back to the previous release.
    commands.push({ type: 'RevertRollout', reason: failure });
    return {
      commands,
      status: status({ desired, release: rollout.previous, messages: [`rollout of release ${target} failed; reverting to release ${rollout.previous}: ${failure}`] }),
      requeueAfter: 0,
    };
  }
  // A failed rollout that cannot revert stops where it stands: the failed instances stay placed
  // (their logs and exit codes are what the operator needs, and while they stand the rollout
  // stays failed), everything else only keeps the count, with the last good release where one
  // exists, until the operator deploys again or rolls back.
  const held = failure !== undefined;
  const heldAside = new Set(failed.map((s) => s.id));
  const placeRelease = held ? (state.activeRelease ?? target) : target;
  const placeSpec = specOf(placeRelease);
  const isCurrent = (s: Slot): boolean => held || s.release === target;

  // ---- sort placements by what their host allows ----
  const current: Slot[] = [];
  const outdated: Slot[] = [];
  const leaving: Slot[] = [];
  const gone: Slot[] = [];
  const standing: Slot[] = [];
  for (const s of slots) {
    const host = fleet.hosts.get(s.host);
    if (isGone(s, fleet)) gone.push(s);
    else if (host?.state === 'draining' && fleet.drainPermits.has(s.id)) leaving.push(s);
    else if (heldAside.has(s.id)) standing.push(s);
    else (isCurrent(s) ? current : outdated).push(s);
    if (host?.drain && host.drain.deadline.getTime() > at) wakeAt.push(host.drain.deadline.getTime());
  }

  const stops: ServiceCommand[] = [];
  const stopped = new Set<string>();
  const stopEach = (list: readonly Slot[], reason: StopReason): void => {
    for (const s of list) {
      stops.push(stop(s, reason));
      stopped.add(s.id);
    }
  };

  // ---- scale in: not ready first, then the newest ----
  const extra = current.length - desired;
  if (extra > 0) {
    const order = [...current].sort((a, b) => Number(serving(a)) - Number(serving(b)) || b.placedAt - a.placedAt || b.id.localeCompare(a.id));
    stopEach(order.slice(0, extra), 'scale-in');
  }
  const currentKept = current.filter((s) => !stopped.has(s.id));
  const availableCurrent = currentKept.filter(available).length;

  // ---- roll past outdated instances within maxUnavailable ----
  const limits = rolloutLimits(targetSpec.deploy, desired);
  const outdatedUp = outdated.filter(serving);
  stopEach(outdated.filter((s) => !serving(s)), 'rollout');
  const floor = desired - limits.unavailable;
  const outdatedStops = Math.min(outdatedUp.length, Math.max(0, availableCurrent + outdatedUp.length - floor));
  stopEach(outdatedUp.slice(0, outdatedStops), 'rollout');
  const outdatedKept = outdated.filter((s) => !stopped.has(s.id));
  const availableStaying = availableCurrent + outdatedKept.filter(serving).length;

  // ---- drain: a leaving instance goes once the others cover the desired count without it ----
  const leavingUp: Slot[] = [];
  for (const s of leaving) {
    const deadline = fleet.hosts.get(s.host)?.drain?.deadline.getTime() ?? Infinity;
    if (deadline <= at || !serving(s)) stopEach([s], 'drain');
    else leavingUp.push(s);
  }
  const leavingStops = Math.min(leavingUp.length, Math.max(0, availableStaying + leavingUp.length - desired));
  stopEach(leavingUp.slice(0, leavingStops), 'drain');
  const leavingKept = leaving.filter((s) => !stopped.has(s.id));

  // ---- place the target release up to the desired count, within maxSurge ----
  // Failed instances left standing use the surge first, so a failed rollout stays within it.
  const running = currentKept.length + outdatedKept.length + standing.length;
  const standingBeyondSurge = Math.max(0, standing.length - limits.surge);
  const toPlace = Math.max(0, Math.min(desired - currentKept.length - standingBeyondSurge, desired + limits.surge - running));
  const taken = new Set(currentKept.map((s) => s.replica));
  const requests: PlacementRequest[] = [];
  for (let replica = 0; requests.length < toPlace; replica++) {
    if (taken.has(replica)) continue;
    requests.push(placementRequest(id, replica, placeSpec, fleet));
  }
  const result = placeAll(spreadAgainst(fleet, id, currentKept), requests, { seed: `${id}/${service.version}` });
  const placements: ServiceCommand[] = result.placements.map((p, n) => ({
    type: 'PlaceInstance',
    instance: newInstanceId(id, service.version, n),
    host: p.host,
    release: placeRelease,
    port: placeSpec.ports[0] ?? null,
    replica: p.request.replica,
  }));
  const unplaceable: UnplacedReplica[] = result.unplaceable.map((u) => ({ replica: u.request.replica, reasons: u.reasons }));

  // ---- instances of lost hosts: stopped once replaced, kept while nothing can replace them ----
  const after = currentKept.length + outdatedKept.length + leavingKept.length + standingBeyondSurge + placements.length;
  const keepGone = Math.max(0, Math.min(gone.length, desired - after));
  stopEach([...gone].sort((a, b) => a.replica - b.replica).slice(keepGone), 'host-lost');

  // ---- rollout completion ----
  commands.push(...stops, ...placements);
  const messages: string[] = [];
  let progress: ServiceStatus['rollout'] = null;
  if (rollout !== null && rolling) {
    const healthy = slots.filter((s) => s.release === target && !isGone(s, fleet) && available(s)).length;
    const others = slots.filter((s) => s.release !== target).length;
    // berth rollback needs an earlier release to go back to: the first release can only be fixed
    const next = rollout.previous === null ? 'there is no earlier release to revert to: the rollout is stopped; deploy a fix' : `autoRevert is off: the rollout is stopped; deploy a fix or berth rollback ${id}`;
    const why = failure === undefined ? undefined : `${failure}; ${next}`;
    progress = { release: target, previous: rollout.previous, healthy, desired, outdated: others, ...(why === undefined ? {} : { failure: why }) };
    if (why !== undefined) messages.push(`rollout of release ${target} failed: ${why}`);
    else if (others === 0 && gone.length === 0 && healthy >= desired) commands.push({ type: 'CompleteRollout', release: target });
  }

  if (unplaceable.length > 0) messages.push(unplaceableMessage(id, placeSpec, desired, currentKept.length + placements.length, unplaceable, rolling));
  const placed = slots.length - stopped.size + placements.length;
  const soonest = Math.min(...wakeAt.filter((t) => t > at));
  return {
    commands,
    status: status({ desired, release: placeRelease, placed, unplaceable, rollout: progress, messages }),
    ...(Number.isFinite(soonest) ? { requeueAfter: soonest - at } : {}),
  };
}

const stop = (s: Slot, reason: StopReason): ServiceCommand => ({ type: 'RequestInstanceStop', instance: s.id, reason });

function isGone(s: Slot, fleet: FleetView): boolean {
  const state = fleet.hosts.get(s.host)?.state;
  return state === undefined || state === 'lost' || state === 'decommissioned';
}

/**
 * The fleet with this service's instances that are on their way out counted as another
 * service: they keep their room, but replica spread places the new instances against the
 * current ones only, so a rollout or a drain ends as spread as it began.
 */
function spreadAgainst(fleet: FleetView, service: string, current: readonly Slot[]): Fleet {
  const staying = new Set(current.map((s) => s.id));
  const outgoing = `${service}/outgoing`;
  const instances = fleet.fleet.instances.map((i) => (i.service === service && !staying.has(i.id) ? { ...i, service: outgoing } : i));
  return { ...fleet.fleet, instances };
}

function placementRequest(service: string, replica: number, spec: ServiceSpec, fleet: FleetView): PlacementRequest {
  // A service's volume pins every instance to the host its data lives on.
  const volume = fleet.volumes.find((v) => v.service === service);
  return {
    service,
    replica,
    resources: spec.resources,
    ...(spec.ports.length > 0 ? { ports: spec.ports } : {}),
    ...(volume === undefined ? {} : { volume: { name: volume.id, host: volume.host } }),
    placement: { ...(spec.placement.region === undefined ? {} : { region: spec.placement.region }), labels: spec.placement.labels },
  };
}

function unplaceableMessage(
  service: string,
  spec: ServiceSpec,
  desired: number,
  placed: number,
  unplaceable: readonly UnplacedReplica[],
  rolling: boolean,
): string {
  const first = unplaceable[0]?.reasons.map((r) => r.message).join('; ') ?? '';
  if (spec.ports.length > 0 && unplaceable.some((u) => u.reasons.some((r) => r.checker === 'ports'))) {
    const hosts = `${placed} host${placed === 1 ? '' : 's'}`;
    const rollHint = rolling ? '; to roll it on every host, set deploy.maxUnavailable: 1' : '';
    return (
      `${service} binds port ${spec.ports.join(', ')} on its host, so it runs at most one instance per host, and only ${hosts} can take one: ` +
      `it asks for ${desired}. Lower its replicas to ${placed} or enroll more hosts${rollHint} (${first})`
    );
  }
  return `${unplaceable.length} instance${unplaceable.length === 1 ? '' : 's'} of ${service} cannot be placed: ${first}; retried when hosts change`;
}

function describeObserved(fleet: FleetView, instance: string, at: number): string {
  const o = fleet.observed.get(instance);
  if (o === undefined) return 'no agent has reported it';
  return `${o.state} for ${formatMs(Math.max(0, at - o.since))}`;
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
