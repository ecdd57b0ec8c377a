// `GET /v1/edge/routes?after=<version>`: the edge's route table by long poll (docs/edge.md). A
// version other than `after` is answered at once; otherwise the request is held until the table
// changes, or answered 204 when nothing changed for `wait` ms.
import { Hono } from 'hono';
import { routeTableSchema } from '../../edge/route-table.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { parseQuery } from '../parse-input.js';
import { routeTableQuerySchema } from '../protocol/route-table-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const routeTableDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/edge/routes',
    summary: 'The route table for edges; with after=<version>, held until it differs (long-poll, 204 when unchanged)',
    scopes: ['edge', 'admin'],
    query: routeTableQuerySchema,
    response: routeTableSchema,
  },
];

export function routeTableRoutes({ tokens, routes }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('/edge/routes', authenticate(tokens, 'edge', 'admin'));
  app.get('/edge/routes', async (c) => {
    const { after, wait } = parseQuery(c, routeTableQuerySchema);
    const table = await routes.changed(after ?? -1, wait, c.req.raw.signal);
    if (table === undefined) return c.body(null, 204);
    c.header('cache-control', 'no-store');
    return c.json(table);
  });
  return app;
}
