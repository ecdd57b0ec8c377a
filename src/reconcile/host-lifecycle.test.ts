// Host lifecycle through the reconcilers (issue 6 item 6): a host whose agent stops reporting is
// lost and its instances are replaced elsewhere; when it reports again it is recovered and its
// replaced instances are no longer assigned to it; a drain moves instances at most maxParallel
// at a time, each replacement healthy before the old instance is stopped.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { hostAssignments } from '../api/host-assignments.js';
import { openTestPlatform, type RawSpec, type TestPlatform } from './test-platform.fixture.js';

const web: RawSpec = { run: 'node server.js', resources: { memory: '256Mi', cpu: '250m' }, replicas: 2 };

let p: TestPlatform;
beforeEach(async () => {
  p = await openTestPlatform();
});
afterEach(async () => {
  await p.close();
});

const hostStatus = async (id: string): Promise<string | undefined> =>
  (await p.store.driver.query<{ status: string }>('SELECT status FROM hosts WHERE id = $1', [id]))[0]?.status;

describe('lost hosts', () => {
  test('a host silent past the timeout is lost and its instances are replaced elsewhere', async () => {
    for (const h of ['h1', 'h2', 'h3']) await p.enroll(h);
    await p.createService('web', web);
    await p.settle();
    const before = await p.live('web');
    const victim = before[0]!;

    p.agentDown(victim.host_id);
    await p.step(20_000);
    expect(await hostStatus(victim.host_id)).toBe('active');
    await p.step(20_000);
    expect(await hostStatus(victim.host_id)).toBe('lost');

    const after = await p.live('web');
    expect(after).toHaveLength(2);
    expect(after.some((i) => i.host_id === victim.host_id)).toBe(false);
    const replaced = (await p.all('web')).find((i) => i.id === victim.id);
    expect(replaced).toMatchObject({ stop_reason: 'host-lost' });
    const replacement = after.find((i) => i.id !== before[1]!.id)!;
    expect(replacement.replica).toBe(victim.replica);
    expect(p.status.host(victim.host_id)?.status).toBe('lost');
  });

  test('a lost host that reports again is recovered, its replaced instances unassigned, and it takes work again', async () => {
    for (const h of ['h1', 'h2']) await p.enroll(h);
    await p.createService('web', web);
    await p.settle();
    p.agentDown('h1');
    await p.step(40_000);
    expect(await hostStatus('h1')).toBe('lost');
    expect(await hostAssignments(p.store.driver, 'h1')).toEqual([]);
    expect((await p.live('web')).every((i) => i.host_id === 'h2')).toBe(true);

    p.agentUp('h1');
    await p.step(1_000);
    expect(await hostStatus('h1')).toBe('active');
    const hostEvents = (await p.store.readStream('host-h1')).events.map((e) => e.type);
    expect(hostEvents.slice(-2)).toEqual(['HostLost', 'HostRecovered']);
    // the stale instances stay stopped: the recovered agent finds them no longer assigned
    expect(await hostAssignments(p.store.driver, 'h1')).toEqual([]);

    await p.service('web', { type: 'SetReplicas', replicas: 3 });
    await p.settle();
    expect((await p.live('web')).map((i) => i.host_id).sort()).toEqual(['h1', 'h2', 'h2']);
  });

  test('an instance nothing can replace stays placed on its lost host until something can', async () => {
    await p.enroll('h1');
    await p.enroll('h2', { memory: '128Mi' });
    await p.createService('web', { ...web, replicas: 1 });
    await p.settle();
    expect((await p.live('web'))[0]?.host_id).toBe('h1');
    p.agentDown('h1');
    await p.step(40_000);
    expect(await hostStatus('h1')).toBe('lost');
    expect((await p.live('web'))[0]?.host_id).toBe('h1');
    expect(p.status.service('web')?.unplaceable[0]?.reasons.map((r) => r.checker)).toEqual(['schedulable', 'memory']);

    await p.enroll('h3');
    await p.settle();
    expect((await p.live('web')).map((i) => i.host_id)).toEqual(['h3']);
  });
});

describe('drain', () => {
  test('moves one instance at a time: the replacement healthy first, then the old one stopped, then completes', async () => {
    await p.enroll('h1', { memory: '8Gi' });
    await p.createService('web', { ...web, replicas: 2 });
    await p.createService('api', { ...web, replicas: 1 });
    await p.settle();
    expect((await p.live()).every((i) => i.host_id === 'h1')).toBe(true);
    for (const h of ['h2', 'h3']) await p.enroll(h);
    await p.step(15_000);

    await p.host('h1', { type: 'DrainHost', deadline: new Date(p.now().getTime() + 3_600_000), maxParallel: 1, now: p.now() });
    const moves: { placedOn: string[]; stoppedOnH1: number }[] = [];
    for (let i = 0; i < 12 && (await p.live()).some((x) => x.host_id === 'h1'); i++) {
      await p.settle();
      const all = await p.all();
      const live = all.filter((x) => x.stop_requested_at === null);
      // never more than one replacement in flight: live instances exceed the desired 3 by at most 1
      expect(live.length).toBeLessThanOrEqual(4);
      moves.push({ placedOn: live.filter((x) => x.host_id !== 'h1').map((x) => x.host_id), stoppedOnH1: all.filter((x) => x.host_id === 'h1' && x.stop_reason === 'drain').length });
      // the replacement is not healthy yet: nothing on h1 stops before minHealthy passes
      await p.step(5_000);
      const stoppedOnH1 = (await p.all()).filter((x) => x.host_id === 'h1' && x.stop_reason !== null).length;
      expect(stoppedOnH1).toBe(moves.at(-1)!.stoppedOnH1);
      await p.step(6_000);
    }
    expect(await p.live()).toHaveLength(3);
    expect((await p.live()).some((x) => x.host_id === 'h1')).toBe(false);
    expect((await p.all()).filter((x) => x.host_id === 'h1').every((x) => x.stop_reason === 'drain')).toBe(true);
    expect(moves.map((m) => m.stoppedOnH1)).toEqual([0, 1, 2]);
    const hostEvents = (await p.store.readStream('host-h1')).events.map((e) => e.type);
    expect(hostEvents.at(-1)).toBe('HostDrainCompleted');
    expect(await p.pass()).toBe(0);
  });

  test('past its deadline a drain moves everything at once', async () => {
    await p.enroll('h1');
    await p.createService('web', { ...web, replicas: 2 });
    await p.settle();
    await p.enroll('h2');
    await p.host('h1', { type: 'DrainHost', deadline: new Date(p.now().getTime() + 60_000), maxParallel: 1, now: p.now() });
    p.behave((row) => (row.host_id === 'h2' ? 'starting' : undefined));
    await p.step(1_000);
    expect((await p.live()).filter((x) => x.host_id === 'h1')).toHaveLength(2);
    await p.step(60_000);
    expect((await p.live()).map((x) => x.host_id)).toEqual(['h2', 'h2']);
    expect((await p.store.readStream('host-h1')).events.at(-1)?.type).toBe('HostDrainCompleted');
  });
});
