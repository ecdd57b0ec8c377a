// The service reconciler against a real store (PGlite in memory), fake agents and a clock the
// test moves: scaling, bursts, unplaceable work, infra services, and idempotency.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openTestPlatform, type RawSpec, type TestPlatform } from './test-platform.fixture.js';

const web: RawSpec = { run: 'node server.js', resources: { memory: '256Mi', cpu: '250m' }, replicas: 1 };

let p: TestPlatform;
beforeEach(async () => {
  p = await openTestPlatform();
});
afterEach(async () => {
  await p.close();
});

const hostsOf = async (service: string): Promise<string[]> => (await p.live(service)).map((i) => i.host_id).sort();

describe('scaling', () => {
  test('scales 1 → 3 → 1, spreading replicas and stopping the not-ready, then the newest', async () => {
    for (const h of ['h1', 'h2', 'h3']) await p.enroll(h);
    await p.createService('web', web);
    await p.settle();
    expect(await p.live('web')).toHaveLength(1);

    await p.service('web', { type: 'SetReplicas', replicas: 3 });
    await p.settle();
    const three = await p.live('web');
    expect(three).toHaveLength(3);
    expect(new Set(three.map((i) => i.host_id)).size).toBe(3);
    expect(three.map((i) => i.replica).sort()).toEqual([0, 1, 2]);
    expect(three.every((i) => i.release === 1 && i.port === null)).toBe(true);

    // once all are healthy, the oldest instance turns unhealthy: scale-in takes it first, then the newest
    await p.step(15_000);
    const [oldest, , newest] = three;
    p.behave((row) => (row.id === oldest!.id ? 'unhealthy' : undefined));
    await p.report();
    await p.service('web', { type: 'SetReplicas', replicas: 1 });
    await p.settle();
    const stopped = (await p.all('web')).filter((i) => i.stop_requested_at !== null);
    expect(stopped.map((i) => i.id).sort()).toEqual([oldest!.id, newest!.id].sort());
    expect(stopped.every((i) => i.stop_reason === 'scale-in')).toBe(true);
    expect(p.status.service('web')).toMatchObject({ desired: 1, placed: 1, unplaceable: [], messages: [] });
  });

  test('a burst raises the floor above max until it expires, then ends and scales back in', async () => {
    for (const h of ['h1', 'h2']) await p.enroll(h);
    await p.createService('web', { ...web, replicas: undefined, scale: { min: 1, max: 2, target: { concurrency: 10 } } });
    await p.settle();
    expect(await p.live('web')).toHaveLength(1);

    await p.service('web', { type: 'StartBurst', replicas: 4, until: new Date(p.now().getTime() + 10 * 60_000), now: p.now() });
    await p.settle();
    expect(await p.live('web')).toHaveLength(4);
    expect(p.status.service('web')?.desired).toBe(4);

    await p.step(9 * 60_000);
    expect(await p.live('web')).toHaveLength(4);

    await p.step(60_000);
    expect(await p.live('web')).toHaveLength(1);
    const types = (await p.store.readStream('service-web')).events.map((e) => e.type);
    expect(types).toContain('BurstEnded');
    const ended = (await p.store.readStream('service-web')).events.find((e) => e.type === 'BurstEnded');
    expect(ended?.data).toEqual({ reason: 'expired' });
  });

  test('follows the autoscaler within the scale bounds', async () => {
    for (const h of ['h1', 'h2']) await p.enroll(h);
    await p.createService('web', { ...web, replicas: undefined, scale: { min: 1, max: 5, target: { rps: 50 } } });
    await p.settle();
    await p.service('web', { type: 'RecordAutoscaleDecision', from: 1, to: 3, reason: 'load', signals: { rps: 150 }, now: p.now() });
    await p.settle();
    expect(await p.live('web')).toHaveLength(3);
  });
});

describe('unplaceable work', () => {
  test('reports the scheduler reasons, then places once a host with room enrolls', async () => {
    await p.enroll('small', { memory: '512Mi' });
    await p.createService('big', { ...web, resources: { memory: '1Gi', cpu: '250m' } });
    await p.settle();
    expect(await p.live('big')).toHaveLength(0);
    const status = p.status.service('big');
    expect(status?.unplaceable).toHaveLength(1);
    expect(status?.unplaceable[0]?.reasons[0]).toMatchObject({ checker: 'memory', resource: 'memory', hosts: 1 });
    expect(status?.messages[0]).toMatch(/1 instance of big cannot be placed: .*memory/);

    await p.enroll('large', { memory: '8Gi' });
    await p.settle();
    expect(await hostsOf('big')).toEqual(['large']);
    expect(p.status.service('big')?.unplaceable).toEqual([]);
  });

  test('an infra service runs at most one instance per host, on its fixed port, and says how many hosts can take it', async () => {
    for (const h of ['h1', 'h2']) await p.enroll(h);
    await p.createService('dns', { run: 'coredns', ports: [5353], replicas: 3 });
    await p.settle();
    const live = await p.live('dns');
    expect(live.map((i) => i.host_id).sort()).toEqual(['h1', 'h2']);
    expect(live.every((i) => i.port === 5353)).toBe(true);
    const status = p.status.service('dns');
    expect(status?.unplaceable).toHaveLength(1);
    expect(status?.unplaceable[0]?.reasons.some((r) => r.checker === 'ports')).toBe(true);
    expect(status?.messages[0]).toMatch(/at most one instance per host, and only 2 hosts can take one: it asks for 3\. Lower its replicas to 2 or enroll more hosts/);

    await p.enroll('h3');
    await p.settle();
    expect(await hostsOf('dns')).toEqual(['h1', 'h2', 'h3']);
  });
});

describe('idempotency', () => {
  test('a second pass over a settled platform appends nothing', async () => {
    for (const h of ['h1', 'h2', 'h3']) await p.enroll(h);
    await p.createService('web', { ...web, replicas: 3 });
    await p.createService('dns', { run: 'coredns', ports: [5353], replicas: 5 });
    await p.settle();
    const before = await p.eventCount();
    await p.report();
    expect(await p.pass()).toBe(0);
    expect(await p.pass()).toBe(0);
    expect(await p.eventCount()).toBe(before);
  });

  test('a deleted service has its instances stopped', async () => {
    await p.enroll('h1');
    await p.createService('web', { ...web, replicas: 2 });
    await p.settle();
    await p.service('web', { type: 'DeleteService' });
    await p.settle();
    expect(await p.live('web')).toHaveLength(0);
    expect((await p.all('web')).every((i) => i.stop_reason === 'service-deleted')).toBe(true);
  });
});
