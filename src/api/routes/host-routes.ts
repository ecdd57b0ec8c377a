// The host lifecycle for operators (`berth hosts`, DESIGN §7): list, cordon, uncordon, drain and
// decommission. Drains are recorded here and carried out by the host and service reconcilers;
// decommission revokes the host's credential, so its agent can no longer speak for it.
import { Hono, type Context } from 'hono';
import { ConflictError } from '../../core/errors.js';
import { hostDecider, type HostCommand } from '../../domain/host.js';
import { hostStream } from '../../domain/streams.js';
import { handleCommand } from '../../store/command-handler.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { findHost } from '../find-target.js';
import { hostSummaries } from '../host-summaries.js';
import { parseBody } from '../parse-input.js';
import { cordonRequestSchema, drainRequestSchema, hostListSchema, hostSummarySchema, type HostList, type HostSummary } from '../protocol/host-protocol.js';
import type { RouteDoc } from '../route-doc.js';

export const hostDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/hosts', summary: 'Every host: state, allocatable vs placed memory and CPU, instances, last heartbeat, memory enforcement', scopes: ['admin'], response: hostListSchema },
  { method: 'get', path: '/v1/hosts/{host}', summary: 'One host by id or name, with its drain progress', scopes: ['admin'], response: hostSummarySchema },
  { method: 'post', path: '/v1/hosts/{host}/cordon', summary: 'Take no new placements; running instances stay', scopes: ['admin'], body: cordonRequestSchema, response: hostSummarySchema },
  { method: 'post', path: '/v1/hosts/{host}/uncordon', summary: 'Take placements again (also calls off a drain)', scopes: ['admin'], response: hostSummarySchema },
  { method: 'post', path: '/v1/hosts/{host}/drain', summary: 'Move the instances away (replacement ready first), at most maxParallel at once, stopping what is left at the deadline', scopes: ['admin'], body: drainRequestSchema, status: 202, response: hostSummarySchema },
  { method: 'post', path: '/v1/hosts/{host}/decommission', summary: 'Retire a drained (or lost) host without volumes; revokes its credential', scopes: ['admin'], response: hostSummarySchema },
];

export function hostRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { store, tokens, fleet, now } = deps;
  const app = new Hono<ApiEnv>();
  app.use('/hosts', authenticate(tokens, 'admin'));
  app.use('/hosts/*', authenticate(tokens, 'admin'));

  const summary = async (id: string): Promise<HostSummary> => {
    const [one] = await hostSummaries(store.driver, fleet, await findHost(store.driver, id));
    if (one === undefined) throw new Error(`host ${id} vanished while it was read`);
    return one;
  };
  const run = async (c: Context<ApiEnv>, hostId: string, command: HostCommand): Promise<void> => {
    await handleCommand(store, hostStream(hostId), hostDecider, command, { metadata: { actor: c.get('principal').name } });
  };

  app.get('/hosts', async (c) => c.json({ hosts: await hostSummaries(store.driver, fleet) } satisfies HostList));
  app.get('/hosts/:host', async (c) => c.json(await summary(c.req.param('host'))));

  app.post('/hosts/:host/cordon', async (c) => {
    const body = await parseBody(c, cordonRequestSchema);
    const host = await findHost(store.driver, c.req.param('host'));
    await run(c, host.id, { type: 'CordonHost', reason: body.reason ?? 'cordoned by an operator' });
    c.get('log').info({ hostId: host.id }, 'host cordoned');
    return c.json(await summary(host.id));
  });

  app.post('/hosts/:host/uncordon', async (c) => {
    const host = await findHost(store.driver, c.req.param('host'));
    await run(c, host.id, { type: 'UncordonHost' });
    c.get('log').info({ hostId: host.id }, 'host uncordoned');
    return c.json(await summary(host.id));
  });

  app.post('/hosts/:host/drain', async (c) => {
    const body = await parseBody(c, drainRequestSchema);
    const host = await findHost(store.driver, c.req.param('host'));
    const at = now();
    await run(c, host.id, { type: 'DrainHost', deadline: new Date(at.getTime() + body.deadline), maxParallel: body.maxParallel, now: at });
    c.get('log').info({ hostId: host.id, deadlineMs: body.deadline, maxParallel: body.maxParallel }, 'host drain started');
    return c.json(await summary(host.id), 202);
  });

  app.post('/hosts/:host/decommission', async (c) => {
    const host = await findHost(store.driver, c.req.param('host'));
    const volumes = await store.driver.query<{ id: string }>(`SELECT id FROM volumes WHERE host_id = $1 AND status = 'active' ORDER BY id`, [host.id]);
    const [placed] = await store.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM instances WHERE host_id = $1 AND stop_requested_at IS NULL`, [host.id]);
    // A live host with instances would have them vanish at once; a drain moves them first.
    if (host.status === 'active' && volumes.length === 0 && (placed?.n ?? 0) > 0) {
      throw new ConflictError(`host ${host.name} still runs ${placed?.n} instances; drain it first (berth hosts drain ${host.name})`, { host: host.id, instances: placed?.n });
    }
    await run(c, host.id, { type: 'DecommissionHost', volumes: volumes.map((v) => v.id) });
    // After the event: a decommission refused by its rules leaves the credential working, and a
    // retry after a failed revoke finds the host decommissioned and revokes again.
    await tokens.revokeHost(host.id);
    c.get('log').info({ hostId: host.id }, 'host decommissioned; its credential is revoked');
    return c.json(await summary(host.id));
  });

  return app;
}
