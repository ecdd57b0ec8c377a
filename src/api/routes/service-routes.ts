// Services and releases (issue 6 items 2-3): create or change a service from its berth.yaml entry,
// release code (an uploaded archive) with a spec and env and roll it out, list releases, roll
// back to an earlier one, resize instances (vertical scaling rolls like a release), delete.
// Every write is one append on the service's stream: it lands whole or not at all.
import { Hono, type Context } from 'hono';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { ServiceCommand } from '../../domain/service.js';
import type { ServiceState } from '../../domain/service-state.js';
import { crossServiceIssues, type ServiceRoutes } from '../../spec/berth-file.js';
import { cpu, size } from '../../spec/quantities.js';
import { checkServiceSpec, MIN_MEMORY, serviceNameSchema, type ServiceSpec } from '../../spec/service.js';
import { formatPath, type SpecIssue } from '../../spec/spec-issue.js';
import type { ReleaseRow } from '../../store/projections/releases.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { parseBody } from '../parse-input.js';
import {
  createReleaseSchema,
  putServiceSchema,
  releaseCreatedSchema,
  releaseListSchema,
  resizeSchema,
  rollbackSchema,
  serviceListSchema,
  serviceSchema,
  type ReleaseCreatedResponse,
} from '../protocol/service-protocol.js';
import type { RouteDoc } from '../route-doc.js';
import { listReleases, listServices, serviceInfo } from '../service-info.js';
import { runServiceCommands } from '../service-commands.js';

export const serviceDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/services', summary: 'Every live service with its instances and the control loops\' view', scopes: ['admin'], response: serviceListSchema },
  { method: 'get', path: '/v1/services/{service}', summary: 'One service with its instances, rollout and the control loops\' view', scopes: ['admin'], response: serviceSchema },
  { method: 'put', path: '/v1/services/{service}', summary: 'Create a service, or change its spec, from its berth.yaml entry (no new release)', scopes: ['admin'], body: putServiceSchema, response: serviceSchema },
  { method: 'delete', path: '/v1/services/{service}', summary: 'Delete a service; its instances are stopped', scopes: ['admin'], status: 204 },
  { method: 'get', path: '/v1/services/{service}/releases', summary: 'The releases of a service, oldest first', scopes: ['admin'], response: releaseListSchema },
  { method: 'post', path: '/v1/services/{service}/releases', summary: 'Create a release (archive digest, spec, env, secret names) and roll it out; creates the service when new', scopes: ['admin'], body: createReleaseSchema, status: 201, response: releaseCreatedSchema },
  { method: 'post', path: '/v1/services/{service}/rollback', summary: 'Restore the code, spec and env of an earlier release as a new release, rolled out', scopes: ['admin'], body: rollbackSchema, status: 201, response: releaseCreatedSchema },
  { method: 'post', path: '/v1/services/{service}/resources', summary: 'Vertical scaling: change memory and CPU per instance, rolled out as a new release', scopes: ['admin'], body: resizeSchema, status: 201, response: releaseCreatedSchema },
];

const TENANT = 'default';

function issuesError(issues: readonly SpecIssue[], under: readonly (string | number)[]): ValidationError {
  const listed = issues.map((i) => ({ field: formatPath([...under, ...i.path]), message: i.message }));
  return new ValidationError(listed.map((i) => `${i.field}: ${i.message}`).join('; '), { issues: listed });
}

function checkSpec(raw: unknown): ServiceSpec {
  const checked = checkServiceSpec(raw);
  if (!checked.ok) throw issuesError(checked.error, ['body', 'spec']);
  return checked.value;
}

function serviceName(c: Context<ApiEnv>): string {
  const name = c.req.param('service') ?? '';
  const checked = serviceNameSchema.safeParse(name);
  if (!checked.success) throw new ValidationError(`service "${name}": ${checked.error.issues[0]?.message ?? 'not a service name'}`, { field: 'service' });
  return name;
}

const routesOf = (spec: ServiceSpec): ServiceRoutes => ({
  ports: spec.ports,
  ...(spec.http ? { http: { host: spec.http.host, path: spec.http.path } } : {}),
  ...(spec.tcp ? { tcp: { port: spec.tcp.port } } : {}),
});

/** A host and path, an edge port or a fixed host port already taken by another service. */
async function checkConflicts(deps: ApiDeps, name: string, spec: ServiceSpec): Promise<void> {
  const others = await deps.store.driver.query<{ id: string; spec: ServiceSpec }>(`SELECT id, spec FROM services WHERE status = 'active' AND id <> $1`, [name]);
  const all: Record<string, ServiceRoutes> = {};
  for (const other of others) all[other.id] = routesOf(other.spec);
  all[name] = routesOf(spec);
  const issues = crossServiceIssues(all).filter((i) => i.path[1] === name);
  if (issues.length > 0) throw issuesError(issues.map((i) => ({ ...i, path: i.path.slice(2) })), ['body', 'spec']);
}

/** Create when absent, else change the spec (a no-op when equal). */
function upsert(state: ServiceState, name: string, spec: ServiceSpec): ServiceCommand[] {
  if (state.status === 'absent') return [{ type: 'CreateService', name, tenant: TENANT, spec }];
  return [{ type: 'ChangeServiceSpec', spec }];
}

const nextRelease = (state: ServiceState): number => (state.releases.at(-1) ?? 0) + 1;

async function releaseRow(deps: ApiDeps, service: string, version: number): Promise<ReleaseRow | undefined> {
  const [row] = await deps.store.driver.query<ReleaseRow>('SELECT * FROM releases WHERE service_id = $1 AND version = $2', [service, version]);
  return row;
}

export function serviceRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { store, tokens, fleet, loops, artifacts } = deps;
  const sources = { db: store.driver, fleet, ...(loops ? { loops } : {}) };
  const app = new Hono<ApiEnv>();
  // Per route, not app.use('/services/*'): other route families (activate, metrics) live under
  // /v1/services too, with other scopes, and a wildcard middleware would apply to them as well.
  const admin = authenticate(tokens, 'admin');
  const actor = (c: Context<ApiEnv>) => ({ actor: c.get('principal').name });

  const found = async (name: string) => {
    const info = await serviceInfo(sources, name);
    if (!info || info.status === 'deleted') throw new NotFoundError(`service ${name} does not exist; deploy it with berth deploy`, { service: name });
    return info;
  };

  app.get('/services', admin, async (c) => c.json({ services: await listServices(sources) }));

  app.get('/services/:service', admin, async (c) => c.json(await found(serviceName(c))));

  app.put('/services/:service', admin, async (c) => {
    const name = serviceName(c);
    const body = await parseBody(c, putServiceSchema);
    const spec = checkSpec(body.spec);
    await checkConflicts(deps, name, spec);
    await runServiceCommands(store, name, (state) => upsert(state, name, spec), actor(c));
    return c.json(await found(name));
  });

  app.delete('/services/:service', admin, async (c) => {
    const name = serviceName(c);
    await found(name);
    await runServiceCommands(store, name, () => [{ type: 'DeleteService' }], actor(c));
    return c.body(null, 204);
  });

  app.get('/services/:service/releases', admin, async (c) => {
    const info = await found(serviceName(c));
    return c.json({ service: info.id, releases: await listReleases(store.driver, info) });
  });

  app.post('/services/:service/releases', admin, async (c) => {
    const name = serviceName(c);
    const body = await parseBody(c, createReleaseSchema);
    const given = body.spec === undefined ? undefined : checkSpec(body.spec);
    if (given) await checkConflicts(deps, name, given);
    if (!(await artifacts.has(body.digest))) {
      throw new ValidationError(`body.digest: ${body.digest} is not uploaded; PUT the archive to /v1/artifacts/${body.digest} first (berth deploy does)`, { field: 'body.digest' });
    }
    let response: ReleaseCreatedResponse | undefined;
    await runServiceCommands(
      store,
      name,
      (state) => {
        const spec = given ?? state.spec;
        if (spec === null) throw new NotFoundError(`service ${name} does not exist; send body.spec (its berth.yaml entry) to create it`, { service: name });
        const version = nextRelease(state);
        response = { service: name, release: version, serviceCreated: state.status === 'absent', rolloutStarted: true };
        return [
          ...(given ? upsert(state, name, given) : []),
          { type: 'CreateRelease', version, digest: body.digest, spec, env: body.env, secretNames: body.secretNames ?? [...spec.secrets] },
          // Every release rolls out, the first too: health gates and completion apply to all.
          { type: 'StartRollout', release: version },
        ];
      },
      actor(c),
    );
    c.get('log').info({ service: name, release: response?.release }, 'release created');
    return c.json(response, 201);
  });

  app.post('/services/:service/rollback', admin, async (c) => {
    const name = serviceName(c);
    const body = await parseBody(c, rollbackSchema);
    const info = await found(name);
    let to = body.to;
    if (to === undefined) {
      if (info.activeRelease === null) throw new ConflictError(`service ${name} has no live release yet; there is nothing to roll back from`);
      const [previous] = await store.driver.query<{ version: number }>(
        'SELECT version FROM releases WHERE service_id = $1 AND version < $2 AND rolled_out_at IS NOT NULL ORDER BY version DESC LIMIT 1',
        [name, info.activeRelease],
      );
      if (!previous) throw new ConflictError(`release ${info.activeRelease} is the first that went live; there is no earlier release to roll back to (pass --to N)`);
      to = previous.version;
    }
    const target = await releaseRow(deps, name, to);
    if (!target) throw new NotFoundError(`release ${to} of ${name} does not exist; berth releases ${name} lists them`, { field: 'body.to', release: to });
    const restored = await rolledForward(deps, c, name, (current) => ({
      digest: target.digest,
      // Code, spec and env come back; the instance count stays as it is now (berth scale owns it).
      spec: withScaling(target.spec, current),
      env: target.env,
      secretNames: [...target.secret_names],
    }));
    return c.json({ ...restored, restoredFrom: to }, 201);
  });

  app.post('/services/:service/resources', admin, async (c) => {
    const name = serviceName(c);
    const body = await parseBody(c, resizeSchema);
    if (body.memory === undefined && body.cpu === undefined) throw new ValidationError('body: sets neither memory nor cpu; pass e.g. --memory 512Mi or --cpu 1');
    const memory = body.memory === undefined ? undefined : size(MIN_MEMORY).safeParse(body.memory);
    if (memory && !memory.success) throw new ValidationError(`body.memory: ${memory.error.issues[0]?.message ?? 'not a size'}`, { field: 'body.memory' });
    const cores = body.cpu === undefined ? undefined : cpu().safeParse(body.cpu);
    if (cores && !cores.success) throw new ValidationError(`body.cpu: ${cores.error.issues[0]?.message ?? 'not a CPU amount'}`, { field: 'body.cpu' });
    await found(name);
    const created = await rolledForward(deps, c, name, (current, release) => ({
      digest: release.digest,
      spec: {
        ...current,
        resources: { memory: memory?.data ?? current.resources.memory, cpu: cores?.data ?? current.resources.cpu },
      },
      env: release.env,
      secretNames: [...release.secret_names],
    }));
    return c.json(created, 201);
  });

  return app;
}

/** The current spec's replicas or scale on another spec. */
function withScaling(spec: ServiceSpec, current: ServiceSpec): ServiceSpec {
  const { replicas: _r, scale: _s, ...rest } = spec;
  return { ...rest, ...(current.scale ? { scale: current.scale } : { replicas: current.replicas ?? 1 }) };
}

interface NewRelease {
  readonly digest: string;
  readonly spec: ServiceSpec;
  readonly env: Readonly<Record<string, string>>;
  readonly secretNames: string[];
}

/**
 * A new release made from the service's current spec and its newest release, recorded with the
 * spec change and its rollout in one append.
 */
async function rolledForward(
  deps: ApiDeps,
  c: Context<ApiEnv>,
  name: string,
  make: (current: ServiceSpec, latest: ReleaseRow) => NewRelease,
): Promise<ReleaseCreatedResponse> {
  let response: ReleaseCreatedResponse | undefined;
  await runServiceCommands(
    deps.store,
    name,
    async (state) => {
      const latestVersion = state.releases.at(-1);
      const latest = latestVersion === undefined ? undefined : await releaseRow(deps, name, latestVersion);
      if (state.spec === null || latest === undefined) throw new ConflictError(`service ${name} has no release yet; deploy it first`);
      const next = make(state.spec, latest);
      const version = nextRelease(state);
      response = { service: name, release: version, serviceCreated: false, rolloutStarted: true };
      return [
        { type: 'ChangeServiceSpec', spec: next.spec },
        { type: 'CreateRelease', version, digest: next.digest, spec: next.spec, env: { ...next.env }, secretNames: next.secretNames },
        { type: 'StartRollout', release: version },
      ];
    },
    { actor: c.get('principal').name },
  );
  if (response === undefined) throw new Error('rolledForward: no release was built');
  c.get('log').info({ service: name, release: response.release }, 'release created');
  return response;
}
