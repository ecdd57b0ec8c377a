// `berth status` and `berth explain`: every service's desired -> placed -> running -> ready ->
// routed counts, release and scale state, and for one service the first link that breaks.
import { Hono } from 'hono';
import type { ServiceRow } from '../../store/projections/services.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { explainService } from '../explain-service.js';
import { findService } from '../find-target.js';
import type { InstanceLogs } from '../log-forwarding.js';
import { explanationSchema, serviceStatusSchema, statusSchema, type Explanation, type StatusInfo } from '../protocol/status-protocol.js';
import type { RouteDoc } from '../route-doc.js';
import { serviceReports } from '../service-report.js';

export const statusDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/status', summary: 'Every service: desired, placed, running, ready, routed, release, rollout and scale state', scopes: ['admin'], response: statusSchema },
  { method: 'get', path: '/v1/status/{service}', summary: 'One service by id or name', scopes: ['admin'], response: serviceStatusSchema },
  { method: 'get', path: '/v1/services/{service}/explain', summary: 'Why the service does not converge: the first broken link of desired -> placed -> running -> ready -> routed, with its evidence', scopes: ['admin'], response: explanationSchema },
];

export function statusRoutes(deps: ApiDeps & { readonly instanceLogs: InstanceLogs }): Hono<ApiEnv> {
  const { store, tokens, instanceLogs, now } = deps;
  const app = new Hono<ApiEnv>();
  app.use('/status', authenticate(tokens, 'admin'));
  app.use('/status/*', authenticate(tokens, 'admin'));
  app.use('/services/:service/explain', authenticate(tokens, 'admin'));
  const reconciling = (): boolean => deps.loops?.isLeader() ?? false;

  app.get('/status', async (c) => {
    const services = await store.driver.query<ServiceRow>(`SELECT * FROM services WHERE status = 'active' ORDER BY name, id`);
    const reports = await serviceReports(deps, services);
    return c.json({ services: reports.map((r) => r.status), reconciling: reconciling() } satisfies StatusInfo);
  });

  app.get('/status/:service', async (c) => {
    const [report] = await serviceReports(deps, [await findService(store.driver, c.req.param('service'))]);
    return c.json(report!.status);
  });

  app.get('/services/:service/explain', async (c) => {
    const service = await findService(store.driver, c.req.param('service'));
    const [report] = await serviceReports(deps, [service]);
    // the last lines of an instance that exited, from wherever its host's agent polls
    const reader = { forwarded: undefined, authorization: c.req.header('authorization') };
    const explanation = await explainService({
      report: report!,
      reconciling: reconciling(),
      now: now(),
      tail: (instance, lines) => instanceLogs.tail(service.name, instance.host, instance.id, lines, reader),
    });
    return c.json(explanation satisfies Explanation);
  });

  return app;
}
