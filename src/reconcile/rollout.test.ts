// Rollouts through the service reconciler (issue 6 item 3): rolling within maxSurge and
// maxUnavailable, an instance counting once ready for minHealthy, a rollout not healthy by
// healthyDeadline reverted (autoRevert) or stopped where it stands.
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { InstanceRow } from '../store/projections/instances.js';
import { openTestPlatform, type RawSpec, type TestPlatform } from './test-platform.fixture.js';

const v1: RawSpec = { run: 'node server.js', env: { VERSION: '1' }, resources: { memory: '256Mi', cpu: '250m' }, replicas: 3 };
const v2: RawSpec = { ...v1, env: { VERSION: '2' } };

let p: TestPlatform;
beforeEach(async () => {
  p = await openTestPlatform();
  for (const h of ['h1', 'h2', 'h3']) await p.enroll(h);
  await p.createService('web', v1);
  await p.settle();
  await p.step(15_000);
});
afterEach(async () => {
  await p.close();
});

const servingCount = (live: readonly InstanceRow[]): number =>
  live.filter((i) => p.observed.host(i.host_id)?.instances.find((o) => o.id === i.id)?.state === 'ready').length;

const serviceEvents = async (): Promise<string[]> => (await p.store.readStream('service-web')).events.map((e) => e.type);

test('rolls one instance at a time within maxSurge 1 / maxUnavailable 0 and completes', async () => {
  expect((await serviceEvents()).filter((t) => t === 'RolloutCompleted')).toHaveLength(1);
  await p.deploy('web', v2);
  let completed = false;
  for (let i = 0; i < 20 && !completed; i++) {
    await p.settle();
    const live = await p.live('web');
    expect(live.length).toBeLessThanOrEqual(4);
    // no v1 instance is stopped while fewer than 3 instances would serve
    expect(servingCount(live.filter((x) => x.release === 1)) + servingCount(live.filter((x) => x.release === 2))).toBeGreaterThanOrEqual(3);
    completed = (await serviceEvents()).filter((t) => t === 'RolloutCompleted').length === 2;
    await p.step(4_000);
  }
  expect(completed).toBe(true);
  const live = await p.live('web');
  expect(live.map((i) => i.release)).toEqual([2, 2, 2]);
  expect(new Set(live.map((i) => i.host_id)).size).toBe(3);
  const old = (await p.all('web')).filter((i) => i.release === 1);
  expect(old.every((i) => i.stop_reason === 'rollout')).toBe(true);
  // each old instance was stopped only after a new one had been healthy (placed ≥ minHealthy before)
  const [release] = await p.store.driver.query<{ rolled_out_at: Date | null }>(`SELECT rolled_out_at FROM releases WHERE id = 'web/2'`);
  expect(release?.rolled_out_at).not.toBeNull();
  expect(p.status.service('web')?.rollout).toBeNull();
  expect(await p.pass()).toBe(0);
});

test('maxSurge 100% starts every new instance at once', async () => {
  await p.deploy('web', { ...v2, deploy: { maxSurge: '100%' } });
  await p.settle();
  const live = await p.live('web');
  expect(live.filter((i) => i.release === 2)).toHaveLength(3);
  expect(live.filter((i) => i.release === 1)).toHaveLength(3);
  await p.step(11_000);
  await p.step(1_000);
  expect((await p.live('web')).map((i) => i.release)).toEqual([2, 2, 2]);
  expect((await serviceEvents()).at(-1)).toBe('RolloutCompleted');
});

test('a release not healthy by healthyDeadline is reverted and its instances stopped; the old ones never were', async () => {
  const deadline = 60_000;
  await p.deploy('web', { ...v2, deploy: { healthyDeadline: '1m' } });
  p.behave((row) => (row.release === 2 ? 'unhealthy' : undefined));
  await p.settle();
  expect((await p.live('web')).filter((i) => i.release === 2)).toHaveLength(1);
  await p.step(deadline / 2);
  expect(await serviceEvents()).not.toContain('RolloutReverted');
  await p.step(deadline / 2);

  const events = (await p.store.readStream('service-web')).events;
  const reverted = events.find((e) => e.type === 'RolloutReverted');
  expect(reverted?.data).toMatchObject({ release: 2, to: 1 });
  expect(JSON.stringify(reverted?.data)).toMatch(/not healthy within 1m \(unhealthy for 1m\)/);
  const live = await p.live('web');
  expect(live.map((i) => i.release)).toEqual([1, 1, 1]);
  expect((await p.all('web')).filter((i) => i.release === 1 && i.stop_requested_at !== null)).toHaveLength(0);
  expect((await p.all('web')).filter((i) => i.release === 2).every((i) => i.stop_reason === 'rollout')).toBe(true);
  const [service] = await p.store.driver.query<{ active_release: number; rollout: unknown }>(`SELECT active_release, rollout FROM services WHERE id = 'web'`);
  expect(service).toEqual({ active_release: 1, rollout: null });
  expect(await p.pass()).toBe(0);
});

test('without autoRevert a failed rollout stops where it stands and says so', async () => {
  await p.deploy('web', { ...v2, deploy: { healthyDeadline: '1m', autoRevert: false } });
  p.behave((row) => (row.release === 2 ? 'unhealthy' : undefined));
  await p.settle();
  await p.step(61_000);
  await p.step(60_000);
  expect(await serviceEvents()).not.toContain('RolloutReverted');
  const live = await p.live('web');
  expect(live.filter((i) => i.release === 2)).toHaveLength(1);
  expect(live.filter((i) => i.release === 1)).toHaveLength(3);
  const status = p.status.service('web');
  expect(status?.rollout?.failure).toMatch(/autoRevert is off: the rollout is stopped; deploy a fix or berth rollback web$/);
  expect(status?.messages[0]).toMatch(/rollout of release 2 failed/);

  // a host lost meanwhile is refilled with the last good release, not the failing one
  const failing = live.find((i) => i.release === 2)!;
  const lost = ['h1', 'h2', 'h3'].find((h) => h !== failing.host_id)!;
  p.agentDown(lost);
  await p.step(40_000);
  const after = await p.live('web');
  expect(after.filter((i) => i.host_id === lost)).toHaveLength(0);
  expect(after.filter((i) => i.release === 1).length).toBeGreaterThanOrEqual(2);
  expect(after.filter((i) => i.release === 2).length).toBeLessThanOrEqual(1);
  expect(after).toHaveLength(4);
});

test('a first release that never gets healthy stays within desired + surge and says there is nothing to revert to', async () => {
  await p.createService('api', { ...v1, deploy: { healthyDeadline: '1m' } });
  p.behave((row) => (row.service_id === 'api' ? 'restarting' : undefined));
  await p.settle();
  for (let i = 0; i < 5; i++) await p.step(61_000);
  expect(await p.live('api')).toHaveLength(4);
  const status = p.status.service('api');
  expect(status?.rollout?.failure).toMatch(/there is no earlier release to revert to: the rollout is stopped; deploy a fix$/);
  // nothing to roll back to: the advice does not name berth rollback
  expect(status?.rollout?.failure).not.toMatch(/rollback/);
  expect((await p.store.readStream('service-api')).events.map((e) => e.type)).not.toContain('RolloutReverted');
});
