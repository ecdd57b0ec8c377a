// What `berth scale show` prints: the spec (fixed count or bounds and target), the counts now
// (desired, placed, ready), what the autoscaler would do next, and its last decisions with reasons.
import { z } from 'zod';
import { serviceStream } from '../domain/streams.js';
import type { AutoscaleEvaluation } from '../reconcile/autoscale-loop.js';
import type { LoadReports } from '../reconcile/load-reports.js';
import type { ObservedState } from '../reconcile/observed-state.js';
import type { ServiceRow } from '../store/projections/services.js';
import type { SqlExecutor } from '../store/sql-driver.js';
import type { DecisionView, ScaleView } from './protocol/scale-protocol.js';

/** What the API needs of the autoscaler: where signals go, and (on the leader) its last evaluations. */
export interface AutoscaleAccess {
  readonly loads: LoadReports;
  evaluation(service: string): AutoscaleEvaluation | undefined;
}

export const scaleViewQuerySchema = z.strictObject({
  /** how many of the last decisions to list */
  decisions: z.coerce.number().pipe(z.int().min(0).max(100)).default(10),
});

const DECISIONS = `SELECT data, at, metadata FROM events
  WHERE stream_id = $1 AND type = 'AutoscaleDecided' ORDER BY stream_version DESC LIMIT $2`;
const PLACED = `SELECT id, host_id FROM instances WHERE service_id = $1 AND stop_requested_at IS NULL`;

export async function scaleView(
  sources: { readonly db: SqlExecutor; readonly observed: ObservedState; readonly autoscale: AutoscaleAccess },
  id: string,
  decisions = 10,
): Promise<ScaleView> {
  const { db, observed, autoscale } = sources;
  const [row] = await db.query<ServiceRow>('SELECT * FROM services WHERE id = $1', [id]);
  if (row === undefined) throw new Error(`service ${id} vanished while its scale was read`);
  const [placed, events] = await Promise.all([
    db.query<{ id: string; host_id: string }>(PLACED, [id]),
    db.query<{ data: { from: number; to: number; reason: string; signals: Record<string, number> }; at: Date | string; metadata: { actor?: string } | null }>(
      DECISIONS,
      [serviceStream(id), decisions],
    ),
  ]);
  const ready = placed.filter((p) => observed.host(p.host_id)?.instances.some((i) => i.id === p.id && i.state === 'ready')).length;
  const now = Date.now();
  const burst = row.burst !== null && Date.parse(row.burst.until) > now ? row.burst : null;
  const base = row.scale === null ? row.replicas : Math.min(Math.max(row.replicas, row.scale.min), row.scale.max);
  const evaluation = row.scale === null ? undefined : autoscale.evaluation(id);
  return {
    service: row.id,
    mode: row.scale === null ? 'fixed' : 'auto',
    replicas: row.scale === null ? row.replicas : null,
    scale: row.scale === null ? null : { ...row.scale, target: { ...row.scale.target } },
    burst,
    current: { desired: Math.max(base, burst?.replicas ?? 0), placed: placed.length, ready },
    pending:
      evaluation === undefined
        ? null
        : {
            at: evaluation.at,
            wants: evaluation.wants,
            reason: evaluation.reason,
            inputs: evaluation.inputs,
            ...(evaluation.waiting === undefined ? {} : { waiting: evaluation.waiting }),
          },
    decisions: events.map(
      (e): DecisionView => ({
        at: new Date(e.at).toISOString(),
        from: e.data.from,
        to: e.data.to,
        reason: e.data.reason,
        signals: e.data.signals,
        actor: e.metadata?.actor ?? null,
      }),
    ),
  };
}
