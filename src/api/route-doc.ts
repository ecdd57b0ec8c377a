// How a route describes itself for /v1/openapi.json: next to its handler, from the same zod
// schemas that validate it, so the document cannot drift from the code.
import type { z } from 'zod';
import type { Scope } from './token-store.js';

export interface RouteDoc {
  readonly method: 'get' | 'post' | 'put' | 'delete' | 'head';
  /** OpenAPI style: /v1/agent/artifacts/{digest} */
  readonly path: string;
  readonly summary: string;
  /** who may call it; none: no token */
  readonly scopes: readonly Scope[] | 'none';
  readonly body?: z.ZodType;
  /** a body that is not JSON (an archive) */
  readonly rawBody?: string;
  readonly query?: z.ZodType;
  readonly status?: number;
  readonly response?: z.ZodType;
  /** a response that is not JSON */
  readonly rawResponse?: string;
}
