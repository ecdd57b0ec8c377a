// `POST /v1/join-tokens`: an admin mints a token a new host enrolls with (`berth agent --token`).
// A join token enrolls any number of hosts until it expires or is revoked; it can do nothing else.
import { Hono } from 'hono';
import { NotFoundError } from '../../core/errors.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { parseBody } from '../parse-input.js';
import { createJoinTokenSchema, DEFAULT_JOIN_TTL, joinTokenSchema, type JoinToken } from '../protocol/join-token-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const joinTokenDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/join-tokens', summary: 'Create a join token for enrolling hosts', scopes: ['admin'], body: createJoinTokenSchema, status: 201, response: joinTokenSchema },
  { method: 'delete', path: '/v1/join-tokens/{id}', summary: 'Revoke a join token', scopes: ['admin'], status: 204 },
];

export function joinTokenRoutes({ tokens, now }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('/join-tokens', authenticate(tokens, 'admin'));
  app.use('/join-tokens/*', authenticate(tokens, 'admin'));
  app.post('/join-tokens', async (c) => {
    const body = await parseBody(c, createJoinTokenSchema);
    const expiresAt = new Date(now().getTime() + (body.ttl ?? DEFAULT_JOIN_TTL));
    const issued = await tokens.issue({ scope: 'join', name: body.name ?? 'join token', expiresAt });
    return c.json({ id: issued.id, token: issued.token, expiresAt: expiresAt.toISOString() } satisfies JoinToken, 201);
  });
  app.delete('/join-tokens/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await tokens.revoke(id, 'join'))) throw new NotFoundError(`no join token ${JSON.stringify(id)}; the id is the one its creation returned`);
    return c.body(null, 204);
  });
  return app;
}
