// Bearer-token authentication and scope checks: 401 without a valid token, 403 with a token of
// the wrong scope. The token never reaches a log line.
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnauthorizedError } from '../core/errors.js';
import type { ApiEnv } from './api-env.js';
import type { Scope, TokenStore } from './token-store.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Admits a request whose bearer token has one of `scopes`. */
export function authenticate(tokens: TokenStore, ...scopes: Scope[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined) throw new UnauthorizedError();
    const match = BEARER.exec(header);
    if (!match?.[1]) throw new UnauthorizedError('Authorization: not a bearer token; send "Authorization: Bearer <token>"');
    const principal = await tokens.verify(match[1]);
    if (!principal) throw new UnauthorizedError('the bearer token is unknown, expired or revoked; use a current token (the admin token is in <data>/admin-token)');
    if (!scopes.includes(principal.scope)) {
      throw new ForbiddenError(`a ${principal.scope} token cannot ${c.req.method} ${c.req.path}; it needs a token with scope ${scopes.join(' or ')}`, {
        scope: principal.scope,
        required: scopes,
      });
    }
    c.set('principal', principal);
    await next();
  };
}
