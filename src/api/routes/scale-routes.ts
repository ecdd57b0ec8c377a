// `berth scale` (issue 7 item 2): a fixed count, autoscale bounds and target, bursts, autoscaling
// off, and what the autoscaler is doing. The spec is authoritative: these set the bounds, the
// autoscaler moves the count only inside them. A service bound to fixed host ports is refused
// more instances than the hosts that can take one (item 3).
import { Hono, type Context } from 'hono';
import { serviceDecider, type ServiceCommand } from '../../domain/service.js';
import { serviceStream } from '../../domain/streams.js';
import { assertInfraFits } from '../../reconcile/infra-hosts.js';
import { handleCommand } from '../../store/command-handler.js';
import type { ServiceRow } from '../../store/projections/services.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { findService } from '../find-target.js';
import { parseBody, parseQuery } from '../parse-input.js';
import { scaleView, scaleViewQuerySchema } from '../scale-view.js';
import { scaleViewSchema, setReplicasSchema, setScaleSchema, startBurstSchema } from '../protocol/scale-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const scaleDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/services/{service}/scale', summary: 'Scale spec, current and pending counts, and the last autoscale decisions with their reasons', scopes: ['admin'], query: scaleViewQuerySchema, response: scaleViewSchema },
  { method: 'put', path: '/v1/services/{service}/replicas', summary: 'A fixed instance count (autoscaling stops)', scopes: ['admin'], body: setReplicasSchema, response: scaleViewSchema },
  { method: 'put', path: '/v1/services/{service}/scale', summary: 'Autoscale between min and max toward a per-instance target (the berth.yaml scale: block)', scopes: ['admin'], body: setScaleSchema, response: scaleViewSchema },
  { method: 'delete', path: '/v1/services/{service}/scale', summary: 'Autoscaling off: the service keeps its current count, fixed', scopes: ['admin'], response: scaleViewSchema },
  { method: 'post', path: '/v1/services/{service}/burst', summary: 'Raise the floor to replicas until the burst expires', scopes: ['admin'], body: startBurstSchema, status: 201, response: scaleViewSchema },
  { method: 'delete', path: '/v1/services/{service}/burst', summary: 'End the running burst now', scopes: ['admin'], response: scaleViewSchema },
];

export function scaleRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { store, tokens, fleet, now, autoscale } = deps;
  const app = new Hono<ApiEnv>();
  // Per route, not app.use('/services/*'): activate and metrics under /v1/services take other scopes.
  const admin = authenticate(tokens, 'admin');

  const run = async (c: Context<ApiEnv>, row: ServiceRow, command: ServiceCommand) => {
    await handleCommand(store, serviceStream(row.id), serviceDecider, command, { metadata: { actor: c.get('principal').name } });
  };
  const view = (id: string, decisions?: number) => scaleView({ db: store.driver, observed: fleet, autoscale }, id, decisions);
  const infra = (row: ServiceRow, count: number, field: string) => assertInfraFits(store.driver, fleet, row.id, row.spec, count, field);

  app.get('/services/:service/scale', admin, async (c) => {
    const row = await findService(store.driver, c.req.param('service'));
    const query = parseQuery(c, scaleViewQuerySchema);
    return c.json(await view(row.id, query.decisions));
  });

  app.put('/services/:service/replicas', admin, async (c) => {
    const row = await findService(store.driver, c.req.param('service'));
    const { replicas } = await parseBody(c, setReplicasSchema);
    await infra(row, replicas, 'body.replicas');
    await run(c, row, { type: 'SetReplicas', replicas });
    return c.json(await view(row.id));
  });

  app.put('/services/:service/scale', admin, async (c) => {
    const row = await findService(store.driver, c.req.param('service'));
    const scale = await parseBody(c, setScaleSchema);
    await infra(row, scale.max, 'body.max');
    await run(c, row, { type: 'SetScale', scale });
    return c.json(await view(row.id));
  });

  app.delete('/services/:service/scale', admin, async (c) => {
    const row = await findService(store.driver, c.req.param('service'));
    // The count the autoscaler last decided stays, now fixed: turning autoscaling off moves nothing.
    if (row.scale !== null) await run(c, row, { type: 'SetReplicas', replicas: row.replicas });
    return c.json(await view(row.id));
  });

  app.post('/services/:service/burst', admin, async (c) => {
    const row = await findService(store.driver, c.req.param('service'));
    const body = await parseBody(c, startBurstSchema);
    await infra(row, body.replicas, 'body.replicas');
    const at = now();
    await run(c, row, { type: 'StartBurst', replicas: body.replicas, until: new Date(at.getTime() + body.for), now: at });
    return c.json(await view(row.id), 201);
  });

  app.delete('/services/:service/burst', admin, async (c) => {
    const row = await findService(store.driver, c.req.param('service'));
    await run(c, row, { type: 'EndBurst', reason: 'cancelled', now: now() });
    return c.json(await view(row.id));
  });

  return app;
}
