// Logs (issue 6 item 5): `GET /v1/services/{service}/logs` merges its instances' lines, each
// tagged with its instance, as NDJSON; with follow=true the response stays open and streams new
// lines until the client goes. The lines come from the agents through the LogRelay: agents take
// requests on `GET /v1/agent/log-requests` and answer with `POST /v1/agent/log-requests/{id}`.
import { Hono, type Context } from 'hono';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { findService } from '../find-target.js';
import type { LogRelay } from '../log-relay.js';
import { parseBody, parseQuery } from '../parse-input.js';
import {
  logBatchReplySchema,
  logBatchSchema,
  logRequestsQuerySchema,
  logRequestsSchema,
  serviceLogsQuerySchema,
  type LogBatchReply,
  type LogEntry,
  type LogRequests,
} from '../protocol/log-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const NDJSON = 'application/x-ndjson';

export const logDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/services/{service}/logs', summary: "Lines of the service's instances as NDJSON {instance, line} (or {instance, error}); follow=true streams until the client leaves", scopes: ['admin'], query: serviceLogsQuerySchema, rawResponse: NDJSON },
  { method: 'get', path: '/v1/agent/log-requests', summary: 'Log requests for this host (long-poll), and the ones whose reader left', scopes: ['agent'], query: logRequestsQuerySchema, response: logRequestsSchema },
  { method: 'post', path: '/v1/agent/log-requests/{id}', summary: 'A batch of lines answering a log request; the reply says whether to send more', scopes: ['agent'], body: logBatchSchema, response: logBatchReplySchema },
];

interface Target {
  id: string;
  host_id: string;
  stopped: boolean;
}

// Placements asked to stop stay readable while their agent keeps them (a crashed release's logs).
const TARGETS = `SELECT id, host_id, stop_requested_at IS NOT NULL AS stopped FROM instances
  WHERE service_id = $1 AND ($2::text IS NULL OR id = $2)
    AND (stop_requested_at IS NULL OR stop_requested_at > now() - interval '1 day')
  ORDER BY stop_requested_at IS NOT NULL, id`;

export function logRoutes(deps: ApiDeps & { readonly logRelay: LogRelay }): Hono<ApiEnv> {
  const { store, tokens, fleet, logRelay, now } = deps;
  const app = new Hono<ApiEnv>();
  app.use('/services/:service/logs', authenticate(tokens, 'admin'));
  app.use('/agent/log-requests', authenticate(tokens, 'agent'));
  app.use('/agent/log-requests/*', authenticate(tokens, 'agent'));

  const hostOf = (c: Context<ApiEnv>): string => {
    const hostId = c.get('principal').hostId;
    if (hostId === undefined) throw new ForbiddenError('this token is not bound to a host; agents use the credential they got at enrollment');
    return hostId;
  };

  app.get('/agent/log-requests', async (c) => {
    const { wait } = parseQuery(c, logRequestsQuerySchema);
    return c.json((await logRelay.take(hostOf(c), wait, c.req.raw.signal)) satisfies LogRequests);
  });

  app.post('/agent/log-requests/:id', async (c) => {
    const batch = await parseBody(c, logBatchSchema);
    const more = await logRelay.deliver(hostOf(c), c.req.param('id'), batch);
    return c.json({ more } satisfies LogBatchReply);
  });

  app.get('/services/:service/logs', async (c) => {
    const query = parseQuery(c, serviceLogsQuerySchema);
    const service = await findService(store.driver, c.req.param('service'));
    const rows = await store.driver.query<Target>(TARGETS, [service.id, query.instance ?? null]);
    if (query.instance !== undefined && rows.length === 0) {
      throw new NotFoundError(`instance ${query.instance} is not an instance of ${service.name}; berth explain ${service.name} lists its instances`, { instance: query.instance });
    }
    // Without --instance: the live ones, and stopped ones only while their agent still has them.
    const targets = query.instance !== undefined ? rows : rows.filter((r) => !r.stopped || fleet.host(r.host_id)?.instances.some((o) => o.id === r.id));
    const since = query.since === undefined ? undefined : now().getTime() - query.since;
    const request = { tail: query.tail, follow: query.follow, ...(since === undefined ? {} : { since }) };
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, c.req.raw.signal]);
    const encoder = new TextEncoder();

    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (entries: LogEntry[]): void => {
          if (entries.length === 0 || signal.aborted) return;
          controller.enqueue(encoder.encode(entries.map((e) => `${JSON.stringify(e)}\n`).join('')));
        };
        const readOne = async (t: Target, emit: (entries: LogEntry[]) => void): Promise<void> => {
          try {
            for await (const lines of logRelay.read(t.host_id, { instance: t.id, ...request }, signal)) emit(lines.map((line) => ({ instance: t.id, line })));
          } catch (error) {
            emit([{ instance: t.id, error: error instanceof Error ? error.message : String(error) }]);
          }
        };
        if (query.follow) {
          // Followed lines interleave as they come; each batch stays whole.
          await Promise.all(targets.map((t) => readOne(t, send)));
        } else {
          // Without timestamps a tail cannot be merged by time: one block per instance, in order.
          const blocks = await Promise.all(
            targets.map(async (t) => {
              const entries: LogEntry[] = [];
              await readOne(t, (e) => entries.push(...e));
              return entries;
            }),
          );
          for (const block of blocks) send(block);
        }
        if (!signal.aborted) controller.close();
      },
      cancel() {
        abort.abort();
      },
    });
    return new Response(body, { headers: { 'content-type': NDJSON, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } });
  });

  return app;
}

