// The HTTP API under /v1 (DESIGN §8): one Hono app wiring every route family, JSON errors from
// BerthError, request logs without secrets, and the OpenAPI document of all of it.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BerthError, NotFoundError } from '../core/errors.js';
import type { ApiDeps } from './api-deps.js';
import type { ApiEnv } from './api-env.js';
import { errorResponse } from './error-response.js';
import { openApiDocument } from './openapi-document.js';
import { requestLog } from './request-log.js';
import type { RouteDoc } from './route-doc.js';
import { agentDocs, agentRoutes } from './routes/agent-routes.js';
import { artifactDocs, artifactRoutes } from './routes/artifact-routes.js';
import { joinTokenDocs, joinTokenRoutes } from './routes/join-token-routes.js';
import { hostDocs, hostRoutes } from './routes/host-routes.js';
import { logDocs, logRoutes } from './routes/log-routes.js';
import { secretDocs, secretRoutes } from './routes/secret-routes.js';
import { statusDocs, statusRoutes } from './routes/status-routes.js';
import { LogRelay } from './log-relay.js';
import { InstanceLogs, LogPollers } from './log-forwarding.js';
import { loadDocs, loadRoutes } from './routes/load-routes.js';
import { edgeTokenDocs, edgeTokenRoutes } from './routes/edge-token-routes.js';
import { routeTableDocs, routeTableRoutes } from './routes/route-table-routes.js';
import { scaleDocs, scaleRoutes } from './routes/scale-routes.js';
import { serviceDocs, serviceRoutes } from './routes/service-routes.js';

export const API_VERSION = '0.1.0';

const metaDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/health', summary: 'Whether the control plane answers (no token)', scopes: 'none' },
  { method: 'get', path: '/v1/openapi.json', summary: 'This document', scopes: 'none' },
];

const JSON_LIMIT = 8 * 2 ** 20;

export function createApi(deps: ApiDeps): Hono<ApiEnv> {
  const docs = [...metaDocs, ...joinTokenDocs, ...edgeTokenDocs, ...agentDocs, ...artifactDocs, ...serviceDocs, ...routeTableDocs, ...scaleDocs, ...loadDocs, ...statusDocs, ...hostDocs, ...secretDocs, ...logDocs];
  const openapi = openApiDocument(docs, API_VERSION);

  const v1 = new Hono<ApiEnv>();
  v1.use('*', async (c, next) => {
    // Archives stream through the artifact store, which enforces its own limit.
    if (c.req.method === 'PUT' && c.req.path.startsWith('/v1/artifacts/')) return next();
    return bodyLimit({
      maxSize: JSON_LIMIT,
      onError: () => {
        throw new BerthError('validation', 413, `body: larger than ${JSON_LIMIT} bytes; send less at once`);
      },
    })(c, next);
  });
  v1.get('/health', (c) => c.json({ ok: true, version: API_VERSION }));
  v1.get('/openapi.json', (c) => c.json(openapi));
  v1.route('/', joinTokenRoutes(deps));
  v1.route('/', agentRoutes(deps));
  v1.route('/', artifactRoutes(deps));
  v1.route('/', serviceRoutes(deps));
  v1.route('/', edgeTokenRoutes(deps));
  v1.route('/', routeTableRoutes(deps));
  v1.route('/', scaleRoutes(deps));
  v1.route('/', loadRoutes(deps));
  const logRelay = deps.logRelay ?? new LogRelay();
  const instanceLogs = new InstanceLogs(logRelay, new LogPollers(deps.store.driver, deps.replicaUrl ?? (() => undefined)), deps.log, deps.now);
  const withLogs = { ...deps, logRelay, instanceLogs };
  v1.route('/', statusRoutes(withLogs));
  v1.route('/', hostRoutes(deps));
  v1.route('/', secretRoutes(deps));
  v1.route('/', logRoutes(withLogs));

  const app = new Hono<ApiEnv>();
  app.use('*', requestLog(deps.log));
  app.route('/v1', v1);
  app.notFound((c) => c.json(new NotFoundError(`no route ${c.req.method} ${c.req.path}; the routes are listed at /v1/openapi.json`).toJSON(), 404));
  app.onError((error, c) => errorResponse(error, c));
  return app;
}
