// The control-plane side of the agent protocol (issue 4): enroll with a join token, heartbeat
// observed state, long-poll the host's complete assignment set, fetch artifacts and secrets, and
// ask whether the edges are done with instances it is about to stop.
// Every route but enroll takes the host credential, and a credential only speaks for its host.
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { ForbiddenError, NotFoundError, ValidationError } from '../../core/errors.js';
import { hostDecider } from '../../domain/host.js';
import { hostStream } from '../../domain/streams.js';
import { handleCommand } from '../../store/command-handler.js';
import { formatVersion, parseVersion } from '../assignment-version.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { hostAssignments, instanceOnHost } from '../host-assignments.js';
import { parseBody, parseQuery } from '../parse-input.js';
import {
  assignmentSetSchema,
  assignmentsQuerySchema,
  drainAnswerSchema,
  drainQuerySchema,
  enrollRequestSchema,
  enrollResponseSchema,
  heartbeatRequestSchema,
  heartbeatResponseSchema,
  instanceSecretsSchema,
  type AssignmentSet,
  type DrainAnswer,
  type EnrollResponse,
  type HeartbeatResponse,
} from '../protocol/agent-protocol.js';
import type { RouteDoc } from '../route-doc.js';
import { ARCHIVE_TYPE, artifactResponse } from './artifact-routes.js';

export const agentDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/agent/enroll', summary: 'Enroll a host with a join token; returns its host id and credential', scopes: ['join'], body: enrollRequestSchema, status: 201, response: enrollResponseSchema },
  { method: 'post', path: '/v1/agent/heartbeat', summary: "Report the host's usage and the state of its instances", scopes: ['agent'], body: heartbeatRequestSchema, response: heartbeatResponseSchema },
  { method: 'get', path: '/v1/agent/assignments', summary: "The host's complete assignment set; with after=<version>, held until it changes (long-poll)", scopes: ['agent'], query: assignmentsQuerySchema, response: assignmentSetSchema },
  { method: 'get', path: '/v1/agent/artifacts/{digest}', summary: 'A release archive (tar.gz) by digest', scopes: ['agent'], rawResponse: ARCHIVE_TYPE },
  {
    method: 'post',
    path: '/v1/agent/drains',
    summary: "Whether every live edge is done with these instances of the host (nothing in flight, nothing new to come): the agent's go to stop them",
    scopes: ['agent'],
    body: drainQuerySchema,
    response: drainAnswerSchema,
  },
  { method: 'get', path: '/v1/agent/instances/{id}/secrets', summary: 'The secret values of an instance placed on this host, at its start', scopes: ['agent'], response: instanceSecretsSchema },
];

/** `web-1` style ids: readable in `berth hosts`, unique with the random tail even for equal names. */
function newHostId(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'host';
  return `${slug}-${randomBytes(3).toString('hex')}`;
}

function hostOf(c: Context<ApiEnv>): string {
  const hostId = c.get('principal').hostId;
  if (hostId === undefined) throw new ForbiddenError('this token is not bound to a host; agents use the credential they got at enrollment');
  return hostId;
}

export function agentRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { store, tokens, fleet, feed, artifacts, vault, autoscale } = deps;
  const app = new Hono<ApiEnv>();
  app.use('/agent/enroll', authenticate(tokens, 'join'));
  app.use('/agent/heartbeat', authenticate(tokens, 'agent'));
  app.use('/agent/assignments', authenticate(tokens, 'agent'));
  app.use('/agent/artifacts/*', authenticate(tokens, 'agent'));
  app.use('/agent/instances/*', authenticate(tokens, 'agent'));
  app.use('/agent/drains', authenticate(tokens, 'agent'));

  app.post('/agent/enroll', async (c) => {
    const body = await parseBody(c, enrollRequestSchema);
    const { machine } = body;
    const allocatable = machine.physicalMemory - machine.reservedMemory;
    if (allocatable <= 0) {
      throw new ValidationError(
        `body.machine.reservedMemory: ${machine.reservedMemory} bytes leaves nothing of the host's ${machine.physicalMemory}; lower --reserved-memory`,
        { field: 'body.machine.reservedMemory' },
      );
    }
    const hostId = newHostId(body.name);
    // The credential first: if the enrollment fails it is revoked, and no host is left without one.
    const credential = await tokens.issue({ scope: 'agent', name: `host ${hostId}`, hostId });
    try {
      await handleCommand(
        store,
        hostStream(hostId),
        hostDecider,
        {
          type: 'EnrollHost',
          name: body.name,
          address: body.address,
          region: body.region,
          capacity: { memory: allocatable, cpu: Math.round(machine.cores * 1000) },
          labels: body.labels,
          machine,
        },
        { metadata: { actor: c.get('principal').name } },
      );
    } catch (error) {
      await tokens.revoke(credential.id).catch(() => undefined);
      throw error;
    }
    c.get('log').info({ hostId, name: body.name, region: body.region, memoryEnforcement: machine.memoryEnforcement }, 'host enrolled');
    return c.json({ hostId, token: credential.token } satisfies EnrollResponse, 201);
  });

  app.post('/agent/heartbeat', async (c) => {
    const hostId = hostOf(c);
    const heartbeat = await parseBody(c, heartbeatRequestSchema);
    const observation = await fleet.record(hostId, heartbeat);
    return c.json({ hostId, at: observation.heartbeatAt.toISOString() } satisfies HeartbeatResponse);
  });

  app.get('/agent/assignments', async (c) => {
    const hostId = hostOf(c);
    const query = parseQuery(c, assignmentsQuerySchema);
    const after = query.after === undefined ? undefined : parseVersion(query.after);
    if (after !== undefined) await feed.changed(hostId, after, query.wait, c.req.raw.signal);
    // The version before the set: the set is then at least as new as its version, never older.
    const version = feed.version(hostId);
    const instances = await hostAssignments(store.driver, hostId);
    return c.json({ hostId, version: formatVersion(version), instances } satisfies AssignmentSet);
  });

  // Answered from the edges' latest load reports, whichever replica took them (load-reports.ts); asked
  // for by the agent between an instance's stop request and its stop signal (src/agent/agent.ts).
  app.post('/agent/drains', async (c) => {
    const hostId = hostOf(c);
    const { instances } = await parseBody(c, drainQuerySchema);
    const [placed, verdicts] = await Promise.all([
      store.driver.query<{ id: string }>('SELECT id FROM instances WHERE host_id = $1 AND id = ANY ($2::text[]) ORDER BY id', [hostId, instances]),
      autoscale.loads.drainAtEdges(instances),
    ]);
    const answer: DrainAnswer = {
      instances: placed.map(({ id }) => {
        const { drained, holding } = verdicts.get(id)!;
        return { id, drained, holding: [...holding] };
      }),
    };
    return c.json(answer);
  });

  app.get('/agent/artifacts/:digest', (c) => artifactResponse(artifacts, c));

  app.get('/agent/instances/:id/secrets', async (c) => {
    const hostId = hostOf(c);
    const id = c.req.param('id');
    const placed = await instanceOnHost(store.driver, hostId, id);
    if (!placed) throw new NotFoundError(`instance ${id} is not assigned to host ${hostId}; only its host gets its secrets`, { instance: id });
    const secrets = await vault.values(placed.tenant, placed.secrets, placed.serviceName);
    c.header('cache-control', 'no-store');
    return c.json({ secrets });
  });

  return app;
}
