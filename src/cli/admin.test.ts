import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { serviceStream } from '../domain/streams.js';
import { serviceSpecSchema } from '../spec/service.js';
import { openEventStore } from '../store/open-store.js';
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
