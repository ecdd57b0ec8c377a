// `POST /v1/edge-tokens`: an admin mints the `edge`-scoped token a standalone edge runs with
// (`berth edge --token`). It can read route tables, report load and wake services, nothing else.
import { Hono } from 'hono';
import { NotFoundError } from '../../core/errors.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { parseBody } from '../parse-input.js';
import { createEdgeTokenSchema, edgeTokenSchema, type EdgeToken } from '../protocol/edge-token-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const edgeTokenDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/edge-tokens', summary: 'Create a token for a standalone edge', scopes: ['admin'], body: createEdgeTokenSchema, status: 201, response: edgeTokenSchema },
  { method: 'delete', path: '/v1/edge-tokens/{id}', summary: "Revoke an edge's token", scopes: ['admin'], status: 204 },
];

export function edgeTokenRoutes({ tokens }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('/edge-tokens', authenticate(tokens, 'admin'));
  app.use('/edge-tokens/*', authenticate(tokens, 'admin'));
  app.post('/edge-tokens', async (c) => {
    const body = await parseBody(c, createEdgeTokenSchema);
    const name = body.name ?? 'edge';
    const issued = await tokens.issue({ scope: 'edge', name });
    return c.json({ id: issued.id, token: issued.token, name } satisfies EdgeToken, 201);
  });
  app.delete('/edge-tokens/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await tokens.revoke(id, 'edge'))) throw new NotFoundError(`no edge token ${JSON.stringify(id)}; the id is the one its creation returned`);
    return c.body(null, 204);
  });
  return app;
}
