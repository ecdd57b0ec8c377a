// One service as `berth status` and `berth explain` see it: its projection row, what the
// reconciler would do now (previewService: desired count, unplaceable reasons, rollout progress),
// its placements with what their agents report, and how many of them the edge routes to.
import type { ServicePlan } from '../reconcile/plan-service.js';
import { planService } from '../reconcile/plan-service.js';
import { readFleetRows } from '../reconcile/fleet-rows.js';
import { viewFleet } from '../reconcile/fleet-view.js';
import type { ReconcileStatus } from '../reconcile/reconcile-status.js';
import { readService, type ServiceView } from '../reconcile/service-view.js';
import type { EventStore } from '../store/event-store.js';
import type { ServiceRow } from '../store/projections/services.js';
import type { ObservedFleet, ReportedInstance } from './observed-fleet.js';
import type { ExplainedInstance, ServiceStatusInfo } from './protocol/status-protocol.js';

export interface StatusSources {
  readonly store: EventStore;
  readonly fleet: ObservedFleet;
  readonly now: () => Date;
  /** the control loops of this control plane, once wired; absent or not leading: nothing converges here */
  readonly loops?: { readonly status: ReconcileStatus; isLeader(): boolean } | undefined;
}

export interface ReportedPlacement extends ExplainedInstance {
  readonly observed: ReportedInstance | undefined;
  readonly hostStatus: 'active' | 'lost' | 'decommissioned';
  readonly hostDraining: boolean;
  readonly live: boolean;
}

export interface ServiceReport {
  readonly status: ServiceStatusInfo;
  readonly plan: ServicePlan;
  /** live placements first (by id), then stopped ones their agents still report */
  readonly instances: readonly ReportedPlacement[];
  readonly reconcileError: string | null;
}

/** The process is up: the edge may route to it once ready. `restarting` waits out a crash backoff. */
const UP = new Set(['starting', 'ready', 'unhealthy']);

interface PlacementRow {
  id: string;
  service_id: string;
  host_id: string;
  host_name: string;
  host_status: 'active' | 'lost' | 'decommissioned';
  host_drain: unknown;
  release: number;
  stop_requested: boolean;
  stop_reason: string | null;
}

const PLACEMENTS = `SELECT i.id, i.service_id, i.host_id, h.name AS host_name, h.status AS host_status, h.drain AS host_drain,
    i.release, i.stop_requested_at IS NOT NULL AS stop_requested, i.stop_reason
  FROM instances i JOIN hosts h ON h.id = i.host_id
  WHERE i.service_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))
    AND (i.stop_requested_at IS NULL OR i.stop_requested_at > now() - interval '1 day')
  ORDER BY i.stop_requested_at IS NOT NULL, i.id`;

export async function serviceReports(sources: StatusSources, services: readonly ServiceRow[]): Promise<ServiceReport[]> {
  const { store, fleet } = sources;
  const now = sources.now();
  const [rows, placements] = await Promise.all([
    readFleetRows(store.driver, fleet),
    store.driver.query<PlacementRow>(PLACEMENTS, [JSON.stringify(services.map((s) => s.id))]),
  ]);
  const fleetView = viewFleet(rows, fleet, now);
  const views = await Promise.all(services.map((s) => readService(store, s.id)));
  return services.map((row, n) => {
    const view = views[n]!;
    const plan = planService(view, fleetView, now);
    const instances = placements
      .filter((p) => p.service_id === row.id)
      .map((p) => placement(p, fleet.host(p.host_id)?.instances.find((i) => i.id === p.id), row))
      // A stopped placement matters while its agent still has it (its exit and logs explain a crash).
      .filter((p) => p.live || p.observed !== undefined);
    const live = instances.filter((p) => p.live);
    const loopError = sources.loops?.status.error(`service/${row.id}`);
    return {
      status: {
        id: row.id,
        name: row.name,
        desired: plan.status.desired,
        placed: live.length,
        running: live.filter((p) => p.observed !== undefined && UP.has(p.observed.state)).length,
        ready: live.filter((p) => p.observed?.state === 'ready').length,
        routed: instances.filter((p) => p.routed).length,
        release: row.active_release,
        latestRelease: row.latest_release,
        rollout: rolloutOf(row, plan, view, live),
        scale: row.scale === null ? { mode: 'fixed', replicas: row.replicas } : { mode: 'auto', min: row.scale.min, max: row.scale.max, desired: row.replicas, target: row.scale.target },
        burst: row.burst,
        route: row.spec.http ? { http: { host: row.spec.http.host, path: row.spec.http.path } } : row.spec.tcp ? { tcp: { port: row.spec.tcp.port } } : null,
        messages: [...plan.status.messages],
      },
      plan,
      instances,
      reconcileError: loopError === undefined ? null : `${loopError.message} (${loopError.attempts} attempt${loopError.attempts === 1 ? '' : 's'}${loopError.terminal ? ', given up until the service changes' : ''})`,
    };
  });
}

/** The route-table rule (route-table-feed.ts): a ready instance, not asked to stop, on a live host, behind a route. */
function placement(p: PlacementRow, observed: ReportedInstance | undefined, service: ServiceRow): ReportedPlacement {
  const routable = service.spec.http !== undefined || service.spec.tcp !== undefined;
  return {
    id: p.id,
    host: p.host_id,
    hostName: p.host_name,
    release: p.release,
    state: observed?.state ?? 'unreported',
    restarts: observed?.restarts ?? 0,
    lastExit: observed?.lastExit ? { ...observed.lastExit, at: new Date(observed.lastExit.at).toISOString() } : null,
    message: observed?.message ?? null,
    stopReason: p.stop_reason,
    routed: routable && p.host_status === 'active' && !p.stop_requested && observed?.state === 'ready' && observed.port !== undefined,
    observed,
    hostStatus: p.host_status,
    hostDraining: p.host_drain !== null,
    live: !p.stop_requested,
  };
}

function rolloutOf(row: ServiceRow, plan: ServicePlan, view: ServiceView, live: readonly ReportedPlacement[]): ServiceStatusInfo['rollout'] {
  if (row.rollout === null) return null;
  const progress = plan.status.rollout;
  const spec = view.releaseSpecs.get(row.rollout.release);
  const started = view.rolloutStartedAt?.getTime() ?? 0;
  // The soonest an instance of the release still short of healthy must make it by.
  const dues = live
    .filter((p) => p.release === row.rollout?.release && p.observed?.state !== 'ready')
    .map((p) => Math.max(view.placedAt.get(p.id)?.getTime() ?? started, started) + (spec?.deploy.healthyDeadline ?? 0));
  const deadline = dues.length > 0 ? new Date(Math.min(...dues)).toISOString() : null;
  return {
    release: row.rollout.release,
    previous: row.rollout.previous,
    ...(progress ? { healthy: progress.healthy, desired: progress.desired } : {}),
    ...(progress?.failure === undefined ? {} : { failure: progress.failure }),
    deadline,
  };
}
