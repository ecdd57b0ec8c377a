// The host reconciler's shell: read the host's stream, its last report and what is still
// placed on it, plan, append.
import { hostDecider } from '../domain/host.js';
import { hostStream } from '../domain/streams.js';
import { appendCommands } from './append-commands.js';
import { readHost } from './host-view.js';
import { occupiesHost } from './observed-state.js';
import { planHost } from './plan-host.js';
import { RECONCILER_ACTOR, type ReconcileContext, type ReconcileResult } from './reconcile-context.js';

const PLACED = `SELECT i.id, EXISTS (
    SELECT 1 FROM volumes v WHERE v.service_id = i.service_id AND v.host_id = i.host_id AND v.status = 'active'
  ) AS stranded
  FROM instances i WHERE i.host_id = $1 AND i.stop_requested_at IS NULL ORDER BY i.id`;

export async function reconcileHost(ctx: ReconcileContext, id: string): Promise<ReconcileResult> {
  const now = ctx.clock();
  const [host, placed] = await Promise.all([
    readHost(ctx.store, id, ctx.eventTime),
    ctx.store.driver.query<{ id: string; stranded: boolean }>(PLACED, [id]),
  ]);
  const report = ctx.observed.host(id);
  const placedIds = new Set(placed.map((p) => p.id));
  const plan = planHost({
    host,
    heartbeatAt: report?.heartbeatAt,
    watchingSince: ctx.watchingSince,
    placed,
    stopping: (report?.instances ?? []).filter((i) => occupiesHost(i) && !placedIds.has(i.id)).map((i) => i.id),
    now,
    ...(ctx.heartbeatTimeout === undefined ? {} : { heartbeatTimeout: ctx.heartbeatTimeout }),
  });
  const appended = await appendCommands(ctx.store, hostStream(id), hostDecider, host, plan.commands, { actor: ctx.actor ?? RECONCILER_ACTOR });
  ctx.status.setHost(plan.status);
  return { appended: appended.length, ...(plan.requeueAfter === undefined ? {} : { requeueAfter: plan.requeueAfter }) };
}
