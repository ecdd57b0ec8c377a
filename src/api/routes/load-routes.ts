// The autoscaler's inputs (issue 7 items 2 and 4): edges push their load every second, wake a
// service at zero when a request arrives for it, and anything (a queue exporter, a cron job)
// pushes an external metric for a service. Written to the database by whichever control plane
// takes them (observed state, not events), for the leader's autoscaler and every replica's drain
// answers (load-reports.ts); an activation is also an AutoscaleDecided, appended at once.
import { Hono } from 'hono';
import { ValidationError } from '../../core/errors.js';
import { activateService } from '../../reconcile/activate-service.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { findService } from '../find-target.js';
import { parseBody } from '../parse-input.js';
import {
  activateRequestSchema,
  activateResponseSchema,
  edgeMetricsSchema,
  externalMetricResponseSchema,
  externalMetricSchema,
  type ActivateResponse,
  type ExternalMetricResponse,
} from '../protocol/load-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const loadDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/edge/metrics', summary: "An edge's per-service load (in-flight, rps, queued) for the autoscaler, every second", scopes: ['edge'], body: edgeMetricsSchema, status: 204 },
  { method: 'post', path: '/v1/services/{service}/activate', summary: 'Wake a service at zero: an edge holds a request for it (the count goes to 1 at once)', scopes: ['edge', 'admin'], body: activateRequestSchema, status: 202, response: activateResponseSchema },
  { method: 'post', path: '/v1/services/{service}/metrics', summary: "The service's current total of an external metric (queue depth) for a metric target", scopes: ['admin'], body: externalMetricSchema, status: 202, response: externalMetricResponseSchema },
];

export function loadRoutes({ store, tokens, autoscale, now }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/edge/metrics', authenticate(tokens, 'edge'), async (c) => {
    await autoscale.loads.edgeReport(await parseBody(c, edgeMetricsSchema));
    return c.body(null, 204);
  });

  app.post('/services/:service/activate', authenticate(tokens, 'edge', 'admin'), async (c) => {
    const body = await parseBody(c, activateRequestSchema);
    const row = await findService(store.driver, c.req.param('service'));
    const result = await activateService(store, autoscale.loads, row.id, { ...body, now: now() });
    if (result.activated) c.get('log').info({ service: row.id, edge: body.edge, queued: body.queued }, 'service activated from zero');
    return c.json(result satisfies ActivateResponse, 202);
  });

  // Tenant tokens join admin here once tokens carry a tenant (see token-store.ts).
  app.post('/services/:service/metrics', authenticate(tokens, 'admin'), async (c) => {
    const body = await parseBody(c, externalMetricSchema);
    const row = await findService(store.driver, c.req.param('service'));
    const target = row.scale?.target.type === 'metric' ? row.scale.target.metric : null;
    // A typo would be stored and never read while the service holds for want of its metric.
    if (target !== null && body.metric !== target) {
      throw new ValidationError(`body.metric: ${row.id} autoscales on ${target}, not ${body.metric}; push ${target} (or change the target with berth scale set)`, {
        field: 'body.metric',
        metric: body.metric,
        target,
      });
    }
    const metric = await autoscale.loads.metric(row.id, body.metric, body.value);
    const response: ExternalMetricResponse = { service: row.id, metric: body.metric, value: metric.value, at: new Date(metric.at).toISOString(), target };
    return c.json(response, 202);
  });

  return app;
}
