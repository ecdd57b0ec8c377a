// The service reconciler's shell: read the service's stream and the fleet, plan, append.
import { serviceDecider } from '../domain/service.js';
import { serviceStream } from '../domain/streams.js';
import { appendCommands } from './append-commands.js';
import { readFleetRows } from './fleet-rows.js';
import { viewFleet } from './fleet-view.js';
import { planService, type ServicePlan } from './plan-service.js';
import { RECONCILER_ACTOR, type ReconcileContext, type ReconcileResult } from './reconcile-context.js';
import { readService } from './service-view.js';

/** What a pass would do now, without doing it (for `berth explain` on any control plane). */
export async function previewService(ctx: Omit<ReconcileContext, 'status' | 'watchingSince'>, id: string): Promise<ServicePlan> {
  const now = ctx.clock();
  const [service, rows] = await Promise.all([readService(ctx.store, id, ctx.eventTime), readFleetRows(ctx.store.driver, ctx.observed)]);
  return planService(service, viewFleet(rows, ctx.observed, now, ctx.fleet), now);
}

export async function reconcileService(ctx: ReconcileContext, id: string): Promise<ReconcileResult> {
  const now = ctx.clock();
  const [service, rows] = await Promise.all([readService(ctx.store, id, ctx.eventTime), readFleetRows(ctx.store.driver, ctx.observed)]);
  const plan = planService(service, viewFleet(rows, ctx.observed, now, ctx.fleet), now);
  const appended = await appendCommands(ctx.store, serviceStream(id), serviceDecider, service, plan.commands, { actor: ctx.actor ?? RECONCILER_ACTOR });
  ctx.status.setService(plan.status);
  return { appended: appended.length, ...(plan.requeueAfter === undefined ? {} : { requeueAfter: plan.requeueAfter }) };
}
