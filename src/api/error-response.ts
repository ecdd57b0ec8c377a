// Every failure leaves as `{ "error": { code, message, details } }` with the error's status.
// Anything that is not a BerthError is a bug or broken infrastructure: logged in full here,
// answered with a bare 500 so no internals (SQL, paths) reach the client.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BerthError, InternalError, NotFoundError, ValidationError } from '../core/errors.js';
import type { ApiEnv } from './api-env.js';

export function errorResponse(error: unknown, c: Context<ApiEnv>): Response {
  const berth = asBerthError(error);
  if (berth instanceof InternalError) c.get('log').error({ err: error }, 'request failed');
  return c.json(berth.toJSON(), berth.status as ContentfulStatusCode);
}

function asBerthError(error: unknown): BerthError {
  if (error instanceof BerthError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 404) return new NotFoundError(error.message || 'not found');
    if (error.status < 500) return new BerthError('validation', error.status, error.message || 'bad request');
  }
  if (error instanceof SyntaxError) return new ValidationError(`body: not valid JSON (${error.message}); send a JSON document with content-type application/json`);
  return new InternalError();
}
