import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openTestPlatform, type TestPlatform } from '../reconcile/test-platform.fixture.js';
import { buildRouteTable } from './route-table-feed.js';

let p: TestPlatform;
beforeEach(async () => {
  p = await openTestPlatform();
});
afterEach(() => p.close());

// No host reports: instances do not matter to the activator.
const activator = async (service: string) => (await buildRouteTable(p.store, { host: () => undefined })).routes?.find((r) => r.service === service)?.activator;

describe('route table: the activator', () => {
  test('follows the scale in force, not only the release: scale set --min 0 and back', async () => {
    await p.createService('web', { run: 'node server.js', http: { host: 'web.test' }, scale: { min: 1, max: 3, target: { concurrency: 10 } } });
    expect(await activator('web')).toBeUndefined();
    await p.service('web', { type: 'SetScale', scale: { min: 0, max: 3, target: { type: 'concurrency', value: 10 }, idle: 60_000 } });
    expect(await activator('web')).toBeDefined();
    await p.service('web', { type: 'SetReplicas', replicas: 0 });
    expect(await activator('web')).toBeUndefined();
  });

  test('a service deployed with min 0 has one', async () => {
    await p.createService('web', { run: 'node server.js', http: { host: 'web.test' }, scale: { min: 0, max: 3, target: { concurrency: 10 } } });
    expect(await activator('web')).toBeDefined();
  });
});
