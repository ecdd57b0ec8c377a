// Logs (issue 6 item 5): `GET /v1/services/{service}/logs` merges its instances' lines, each
// tagged with its instance, as NDJSON; with follow=true the response stays open and streams new
// lines, from instances that start meanwhile too, until the client goes. The lines come from the
// agents through the LogRelay: agents take requests on `GET /v1/agent/log-requests` and answer
// with `POST /v1/agent/log-requests/{id}`. An instance whose agent polls another replica is read
// through that replica (log-forwarding.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono, type Context } from 'hono';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { occupiesHost } from '../../reconcile/observed-state.js';
import { findService } from '../find-target.js';
import { FORWARDED_HEADER, type InstanceLogs } from '../log-forwarding.js';
import type { LogRelay } from '../log-relay.js';
import { parseBody, parseQuery } from '../parse-input.js';
import {
  logBatchReplySchema,
  logBatchSchema,
  logRequestsQuerySchema,
  logRequestsSchema,
  MAX_TAIL,
  serviceLogsQuerySchema,
  type LogBatchReply,
  type LogEntry,
  type LogRequest,
  type LogRequests,
} from '../protocol/log-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const NDJSON = 'application/x-ndjson';

/** ms between a follow's looks for instances of its service that appeared since it began */
const RESCAN_MS = 1_000;

export const logDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/services/{service}/logs', summary: "Lines of the service's instances as NDJSON {instance, line} (or {instance, error}); follow=true streams until the client leaves, taking up instances that start meanwhile", scopes: ['admin'], query: serviceLogsQuerySchema, rawResponse: NDJSON },
  { method: 'get', path: '/v1/agent/log-requests', summary: 'Log requests for this host (long-poll), and the ones whose reader left', scopes: ['agent'], query: logRequestsQuerySchema, response: logRequestsSchema },
  { method: 'post', path: '/v1/agent/log-requests/{id}', summary: 'A batch of lines answering a log request; the reply says whether to send more', scopes: ['agent'], body: logBatchSchema, response: logBatchReplySchema },
];

/** what to read of an instance: the tail first, then (following) new lines */
type Reading = Omit<LogRequest, 'id' | 'instance'>;

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

const SERVICE_STATUS = 'SELECT status FROM services WHERE id = $1';

export function logRoutes(deps: ApiDeps & { readonly logRelay: LogRelay; readonly instanceLogs: InstanceLogs }): Hono<ApiEnv> {
  const { store, tokens, fleet, logRelay, instanceLogs, now, log } = deps;
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
    const hostId = hostOf(c);
    // Readers on other replicas find this one through the note; the logs still flow without it.
    // not awaited: a slow database must not hold the agent's poll (nor the reads on this replica)
    void instanceLogs.pollers.polledHere(hostId).catch((error: unknown) => log.warn({ host: hostId, err: (error as Error).message }, 'log requests: noting that this host polls here failed; readers on other replicas may not reach it'));
    return c.json((await logRelay.take(hostId, wait, c.req.raw.signal)) satisfies LogRequests);
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
    /** the instance as its agent last reported it; undefined when the agent does not have it */
    const observed = (t: Target) => fleet.host(t.host_id)?.instances.find((o) => o.id === t.id);
    const reported = (t: Target): boolean => observed(t) !== undefined;
    // Without --instance: the live ones, and stopped ones only while their agent still has them. A
    // follow takes only those their agent has: a placement not started yet has no log to follow,
    // and the follow picks it up once it runs (below).
    const targets = query.instance !== undefined ? rows : rows.filter((r) => (query.follow ? reported(r) : !r.stopped || reported(r)));
    const startedAt = now().getTime();
    const since = query.since === undefined ? undefined : startedAt - query.since;
    const request: Reading = { tail: query.tail, follow: query.follow, ...(since === undefined ? {} : { since }) };
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, c.req.raw.signal]);
    // the reads of a follow end with the reader, or when the follow ends itself (service deleted)
    const readsDone = new AbortController();
    const readSignal = AbortSignal.any([signal, readsDone.signal]);
    const encoder = new TextEncoder();
    const reader = { forwarded: c.req.header(FORWARDED_HEADER), authorization: c.req.header('authorization') };

    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (entries: LogEntry[]): void => {
          if (entries.length === 0 || signal.aborted) return;
          controller.enqueue(encoder.encode(entries.map((e) => `${JSON.stringify(e)}\n`).join('')));
        };
        const readOne = async (t: Target, emit: (entries: LogEntry[]) => void, from = request): Promise<void> => {
          try {
            for await (const lines of await instanceLogs.read(service.name, t.host_id, { instance: t.id, ...from }, reader, readSignal)) emit(lines.map((line) => ({ instance: t.id, line })));
          } catch (error) {
            // a follow that ended itself stops its reads: that is no error of the instance's
            if (readsDone.signal.aborted) return;
            emit([{ instance: t.id, error: error instanceof Error ? error.message : String(error) }]);
          }
        };
        if (query.follow) {
          // Followed lines interleave as they come; each batch stays whole. A follow outlives the
          // instances it began with (a deploy or a scale-out starts others): every RESCAN_MS it
          // re-reads the service's instances, level-based like the control loops, and follows each
          // one its agent now has that it has not followed yet. One placed before the follow began
          // (its agent had not reported it yet) is read as asked (--tail, --since); one placed
          // since has only new lines: all of its log, up to MAX_TAIL lines, with no time cut that
          // would compare this clock with its agent's. Each instance is followed once,
          // so no line comes twice; one that goes away ends its own read (its agent says done once
          // it is removed) and the rest go on, until the reader leaves. A poll, not a watch on
          // heartbeats: one indexed query a second per follower is cheap, and a heartbeat does not
          // say which service its instances belong to.
          const followed = new Map<string, Target>();
          const reads: Promise<void>[] = [];
          const follow = (t: Target, from: Reading): void => {
            followed.set(t.id, t);
            reads.push(readOne(t, send, from));
          };
          const running = (t: Target): boolean => {
            const seen = observed(t);
            return seen !== undefined && occupiesHost(seen);
          };
          let stoppedLooks = 0;
          for (const t of targets) follow(t, request);
          const placedBefore = new Set(rows.map((r) => r.id));
          const placedSince: Reading = { tail: MAX_TAIL, follow: true };
          let failedLooks = 0;
          // Until the service is deleted: then no instance will start, and once those it reads have
          // stopped and their last lines had a look's time to come, the follow ends, rather than
          // wait for a reader who may never leave (or for the agents to remove the stopped
          // instances, a minute later).
          while (query.instance === undefined && !signal.aborted) {
            await sleep(RESCAN_MS, undefined, { signal }).catch(() => undefined);
            if (signal.aborted) break;
            // A failed look (the database away for a moment) is retried at the next one, and said
            // once a minute while it lasts; the instances already followed go on meanwhile.
            let current: Target[] = [];
            let deleted: boolean;
            try {
              deleted = (await store.driver.query<{ status: string }>(SERVICE_STATUS, [service.id]))[0]?.status !== 'active';
              if (!deleted) current = await store.driver.query<Target>(TARGETS, [service.id, null]);
              failedLooks = 0;
            } catch (error) {
              if (failedLooks++ % 60 === 0) log.warn({ service: service.name, err: (error as Error).message }, 'a log follow could not look for new instances; retrying every second');
              continue;
            }
            if (deleted) {
              stoppedLooks = [...followed.values()].some(running) ? 0 : stoppedLooks + 1;
              if (stoppedLooks >= 2) {
                readsDone.abort();
                break;
              }
              continue;
            }
            for (const t of current) if (!followed.has(t.id) && reported(t)) follow(t, placedBefore.has(t.id) ? request : placedSince);
          }
          await Promise.all(reads);
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

