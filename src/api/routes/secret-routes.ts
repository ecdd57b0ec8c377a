// `berth secrets` (issue 6 item 4): set, list and remove a service's secrets. Values are sealed by
// the vault before anything else sees them; the log records only name and version (SecretSet),
// listings show names and update times, and a change rolls the service so instances get it.
import { Hono, type Context } from 'hono';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import { tenantDecider } from '../../domain/tenant.js';
import { tenantStream } from '../../domain/streams.js';
import { envName } from '../../spec/names.js';
import { handleCommand } from '../../store/command-handler.js';
import type { ReleaseRow } from '../../store/projections/releases.js';
import type { ServiceRow } from '../../store/projections/services.js';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import { authenticate } from '../authenticate.js';
import { findService } from '../find-target.js';
import { parseBody } from '../parse-input.js';
import { secretListSchema, secretsChangedSchema, setSecretsSchema, type SecretList, type SecretsChanged } from '../protocol/secret-protocol.js';
import type { RouteDoc } from '../route-doc.js';
import { serviceSecretName } from '../secret-vault.js';
import { rollForSecrets } from '../secret-rollout.js';
import { releaseInForce } from '../../domain/service-state.js';

export const secretDocs: RouteDoc[] = [
  { method: 'put', path: '/v1/services/{service}/secrets', summary: "Set secrets of a service (sealed at rest) and roll it so instances get them", scopes: ['admin'], body: setSecretsSchema, response: secretsChangedSchema },
  { method: 'get', path: '/v1/services/{service}/secrets', summary: 'Secret names of a service with versions and update times; never values', scopes: ['admin'], response: secretListSchema },
  { method: 'delete', path: '/v1/services/{service}/secrets/{name}', summary: 'Remove a secret of a service and roll it', scopes: ['admin'], response: secretsChangedSchema },
];

export function secretRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { store, tokens, vault } = deps;
  const app = new Hono<ApiEnv>();
  app.use('/services/:service/secrets', authenticate(tokens, 'admin'));
  app.use('/services/:service/secrets/*', authenticate(tokens, 'admin'));

  const record = (c: Context<ApiEnv>, service: ServiceRow, command: Parameters<typeof tenantDecider.decide>[0]) =>
    handleCommand(store, tenantStream(service.tenant), tenantDecider, command, { metadata: { actor: c.get('principal').name } });

  /** The secret names the release in force delivers, and the ones its spec declares. */
  const inForce = async (service: ServiceRow): Promise<{ delivered: readonly string[]; declared: readonly string[] }> => {
    const version = releaseInForce({
      rollout: service.rollout,
      activeRelease: service.active_release,
      releases: service.latest_release === null ? [] : [service.latest_release],
    });
    const [row] = version === null ? [] : await store.driver.query<Pick<ReleaseRow, 'spec' | 'secret_names'>>(
      'SELECT spec, secret_names FROM releases WHERE service_id = $1 AND version = $2',
      [service.id, version],
    );
    return { delivered: row?.secret_names ?? [], declared: row?.spec.secrets ?? service.spec.secrets };
  };

  app.put('/services/:service/secrets', async (c) => {
    const body = await parseBody(c, setSecretsSchema);
    const service = await findService(store.driver, c.req.param('service'));
    const names = Object.keys(body.secrets).sort();
    for (const name of names) {
      const version = await vault.set(service.tenant, serviceSecretName(service.name, name), body.secrets[name] ?? '');
      await record(c, service, { type: 'RecordSecretSet', name: serviceSecretName(service.name, name), version });
    }
    const rolled = await rollForSecrets(store, service.id, (current) => [...new Set([...current, ...names])], c.get('principal').name);
    c.get('log').info({ service: service.id, names, release: rolled.release }, 'secrets set');
    return c.json({ service: service.id, changed: names, ...rolled } satisfies SecretsChanged);
  });

  app.get('/services/:service/secrets', async (c) => {
    const service = await findService(store.driver, c.req.param('service'));
    const [stored, { declared }] = await Promise.all([vault.list(service.tenant, service.name), inForce(service)]);
    const byName = new Map(stored.map((s) => [s.name, s]));
    const names = [...new Set([...stored.map((s) => s.name), ...declared])].sort();
    const secrets = names.map((name) => {
      const s = byName.get(name);
      return { name, version: s?.version ?? null, updatedAt: s?.updatedAt ?? null, declared: declared.includes(name) };
    });
    return c.json({ service: service.id, secrets } satisfies SecretList);
  });

  app.delete('/services/:service/secrets/:name', async (c) => {
    const name = c.req.param('name');
    if (!envName.safeParse(name).success) throw new ValidationError(`secret name: ${JSON.stringify(name)} is not an environment variable name; write e.g. DATABASE_URL`);
    const service = await findService(store.driver, c.req.param('service'));
    const { declared } = await inForce(service);
    // Instances of a release that declares the secret cannot start without it: refuse rather than break them.
    if (declared.includes(name)) {
      throw new ConflictError(`secret ${name} is declared in the secrets of ${service.name} in berth.yaml; remove it there and deploy, then remove the value`, { service: service.id, secret: name });
    }
    const key = serviceSecretName(service.name, name);
    if (!(await vault.delete(service.tenant, key))) {
      throw new NotFoundError(`service ${service.name} has no secret ${name}; berth secrets list ${service.name} shows its secrets`, { service: service.id, secret: name });
    }
    await record(c, service, { type: 'RecordSecretDeleted', name: key });
    const rolled = await rollForSecrets(store, service.id, (current) => current.filter((n) => n !== name), c.get('principal').name);
    c.get('log').info({ service: service.id, name, release: rolled.release }, 'secret removed');
    return c.json({ service: service.id, changed: [name], ...rolled } satisfies SecretsChanged);
  });

  return app;
}
