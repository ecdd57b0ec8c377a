import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { freePort } from '../agent/port-allocator.js';
import { serviceStream } from '../domain/streams.js';
import { serviceSpecSchema } from '../spec/service.js';
import { openEventStore } from '../store/open-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { main } from './main.js';

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

test('berth admin rebuild replays the log of a data directory into its projections', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-admin-'));
  dirs.push(dir);
  const data = join(dir, 'db');
  const spec = serviceSpecSchema.parse({ run: 'node server.js' });
  const store = await openEventStore({ data });
  await store.append(serviceStream('web'), [{ type: 'ServiceCreated', data: { name: 'web', tenant: 'acme', spec } }], { expectedVersion: 0 });
  await store.driver.query('DELETE FROM services');
  await store.close();

  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  expect(await main(['node', 'berth', 'admin', 'rebuild', '--data', data, '--json'])).toBe(0);
  expect(JSON.parse(String(out.mock.calls[0]?.[0]))).toMatchObject({ rebuilt: ['services', 'releases', 'hosts', 'instances', 'volumes'], events: 1 });
  out.mockRestore();

  const reopened = await openEventStore({ data });
  try {
    expect(await reopened.driver.query('SELECT id, name, tenant FROM services')).toEqual([{ id: 'web', name: 'web', tenant: 'acme' }]);
  } finally {
    await reopened.close();
  }
});

test('berth admin rebuild refuses a URL that is not postgres://', async () => {
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await main(['node', 'berth', 'admin', 'rebuild', '--database', 'mysql://db'])).toBe(1);
  expect(String(err.mock.calls[0]?.[0])).toMatch(/is not a postgres:\/\/ URL/);
});

/** Runs `berth <args>`, capturing stderr. */
async function berthErr(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await main(['node', 'berth', ...args]);
  expect(out).not.toHaveBeenCalled();
  return { code, stderr };
}

test('berth admin rebuild refuses a data directory that holds no berth database, and creates none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-admin-'));
  dirs.push(dir);
  const missing = join(dir, 'nope');
  expect(await berthErr('admin', 'rebuild', '--data', missing)).toEqual({
    code: 1,
    stderr: `berth: --data ${missing}: no such directory; pass --data <dir> of an existing berth database (the server's data directory + /db, default ./.berth/db), or --database postgres://…\n`,
  });
  expect(existsSync(missing)).toBe(false);

  // a Postgres data directory, but berth never migrated it
  const bare = join(dir, 'bare', 'db');
  await (await openPgliteDriver(bare)).close();
  expect(await berthErr('admin', 'rebuild', '--data', bare)).toEqual({
    code: 1,
    stderr: `berth: --data ${bare}: holds no berth database (no schema_migrations table); point it at the database the control plane uses\n`,
  });
  // the server's --data holds the database in db/
  expect((await berthErr('admin', 'rebuild', '--data', join(dir, 'bare'))).stderr).toBe(
    `berth: --data ${join(dir, 'bare')}: holds no database, but its db directory does; pass --data ${bare}\n`,
  );
});

test('berth admin rebuild turns an unreachable Postgres into one line, without the password', async () => {
  // a port nothing listens on: bind one, then free it
  const port = await freePort();
  expect(await berthErr('admin', 'rebuild', '--database', `postgres://berth:s3cret@127.0.0.1:${port}/berth`)).toEqual({
    code: 1,
    stderr: `berth: --database postgres://berth:***@127.0.0.1:${port}/berth: connection refused at 127.0.0.1:${port}; check that Postgres is running there and listens on that port\n`,
  });
});
