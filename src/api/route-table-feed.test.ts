import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { openTestPlatform, type TestPlatform } from '../reconcile/test-platform.fixture.js';
import { ObservedFleet, type Heartbeat, type ReportedInstance } from './observed-fleet.js';
import { parseRouteTable, routeMode } from '../edge/route-table.js';
import { buildRouteTable, RouteTableFeed } from './route-table-feed.js';

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

  test('a TCP service with min 0 has one too: the edge holds its connections while an instance starts', async () => {
    await p.createService('db', { run: 'postgres', tcp: { port: 15432 }, scale: { min: 0, max: 2, target: { concurrency: 50 } } });
    await p.createService('mq', { run: 'rabbitmq-server', tcp: { port: 5672 }, scale: { min: 1, max: 2, target: { concurrency: 50 } } });
    const { tcp = [] } = await buildRouteTable(p.store, { host: () => undefined });
    expect(tcp.find((r) => r.service === 'db')?.activator).toEqual({ limit: 1000, timeoutMs: 60_000 });
    expect(tcp.find((r) => r.service === 'mq')).not.toHaveProperty('activator');
  });
});

describe('route table: the route fields of berth.yaml', () => {
  const table = () => buildRouteTable(p.store, { host: () => undefined });

  test('carries mode, balancer, queue and a TCP idle timeout; absent ones stay absent for the edge to fill', async () => {
    await p.createService('api', {
      run: 'node server.js',
      http: { host: 'api.test', mode: 'per-request', balancer: 'round-robin', affinity: 'ip', concurrency: { hard: 5 }, queue: { limit: 20, timeout: '2s' } },
    });
    await p.createService('half', { run: 'node server.js', http: { host: 'half.test', concurrency: { type: 'connections', hard: 5 }, queue: { timeout: '500ms' } } });
    await p.createService('web', { run: 'node server.js', http: { host: 'web.test' } });
    await p.createService('db', { run: 'postgres', tcp: { port: 15432, idleTimeout: '8h' } });
    await p.createService('mq', { run: 'rabbitmq-server', tcp: { port: 5672 } });
    const { routes = [], tcp = [] } = await table();
    const route = (service: string) => routes.find((r) => r.service === service);
    expect(route('api')).toMatchObject({ mode: 'per-request', balancer: 'round-robin', queue: { limit: 20, timeoutMs: 2_000 } });
    // a queue given in part takes the rest from the edge's default (256 waiting)
    expect(route('half')?.queue).toEqual({ limit: 256, timeoutMs: 500 });
    expect(route('web')).not.toHaveProperty('mode');
    expect(route('web')).not.toHaveProperty('balancer');
    expect(route('web')).not.toHaveProperty('queue');
    expect(tcp.find((r) => r.service === 'db')?.idleTimeoutMs).toBe(8 * 3_600_000);
    expect(tcp.find((r) => r.service === 'mq')).not.toHaveProperty('idleTimeoutMs');
  });

  test("carries a TCP route's balancer, ip affinity, connection limits and queue; a route without them is the table it was", async () => {
    await p.createService('db', {
      run: 'postgres',
      tcp: { port: 15432, balancer: 'round-robin', affinity: 'ip', concurrency: { soft: 8, hard: 10 }, queue: { timeout: '2s' } },
    });
    await p.createService('mq', { run: 'rabbitmq-server', tcp: { port: 5672 } });
    const { tcp = [] } = await table();
    expect(tcp.find((r) => r.service === 'db')).toMatchObject({
      balancer: 'round-robin',
      affinity: { type: 'ip' },
      concurrency: { type: 'connections', soft: 8, hard: 10 },
      // half a queue takes the rest from the edge's default (256 waiting)
      queue: { limit: 256, timeoutMs: 2_000 },
    });
    // exactly what was sent before these fields existed, so no edge sees a new version for nothing
    const { instances, drainGraceMs, ...mq } = tcp.find((r) => r.service === 'mq')!;
    expect(mq).toEqual({ port: 5672, service: 'mq', concurrency: { type: 'connections' } });
    expect([instances, drainGraceMs]).toEqual([[], 30_000]);
    const parsed = parseRouteTable({ version: 1, tcp });
    if (!parsed.ok) return expect.fail(parsed.message);
    expect(parsed.table.tcp.find((r) => r.service === 'db')).toMatchObject({ affinity: { type: 'ip' }, queue: { limit: 256, timeoutMs: 2_000 } });
  });

  test("carries a TCP route's proxyProtocol to the edge; a route without it is the table it was", async () => {
    await p.createService('smtp', { run: 'node smtp.js', tcp: { port: 2525, proxyProtocol: 'v2' } });
    await p.createService('db', { run: 'postgres', tcp: { port: 15432, proxyProtocol: 'v1', idleTimeout: '8h' } });
    await p.createService('mq', { run: 'rabbitmq-server', tcp: { port: 5672 } });
    const { tcp = [] } = await table();
    const route = (service: string) => tcp.find((r) => r.service === service);
    expect(route('smtp')?.proxyProtocol).toBe('v2');
    expect(route('db')).toMatchObject({ proxyProtocol: 'v1', idleTimeoutMs: 8 * 3_600_000 });
    // exactly what was sent before the field existed, so no edge sees a new version for nothing
    const { instances, drainGraceMs, ...mq } = route('mq')!;
    expect(mq).toEqual({ port: 5672, service: 'mq', concurrency: { type: 'connections' } });
    const parsed = parseRouteTable({ version: 1, tcp });
    if (!parsed.ok) return expect.fail(parsed.message);
    expect(parsed.table.tcp.map((r) => [r.service, r.proxyProtocol])).toEqual([
      ['db', 'v1'],
      ['mq', undefined],
      ['smtp', 'v2'],
    ]);
  });

  test('the edge reads what it carries: the mode in force and the 1h TCP default', async () => {
    await p.createService('web', { run: 'node server.js', http: { host: 'web.test', affinity: 'cookie' } });
    await p.createService('fast', { run: 'node server.js', http: { host: 'fast.test', mode: 'per-request' } });
    await p.createService('mq', { run: 'rabbitmq-server', tcp: { port: 5672 } });
    const parsed = parseRouteTable({ version: 1, ...(await table()) });
    if (!parsed.ok) return expect.fail(parsed.message);
    const mode = (service: string) => routeMode(parsed.table.routes.find((r) => r.service === service)!);
    expect(mode('web')).toBe('per-request');
    expect(mode('fast')).toBe('per-request');
    expect(parsed.table.tcp[0]).toMatchObject({ service: 'mq', idleTimeoutMs: 3_600_000, balancer: 'least-outstanding' });
  });
});

describe('route table feed: agent reports', () => {
  const heartbeat = (instance: ReportedInstance, millicores: number): Heartbeat => ({
    usage: { memory: { total: 2 ** 30, used: 2 ** 20 * millicores }, cpu: { cores: 2, millicores } },
    instances: [{ ...instance, rssBytes: 2 ** 20 * millicores, cpuMillicores: millicores }],
    agent: { version: 'test', memoryEnforcement: 'none' },
  });

  test('a heartbeat repeating the same instance states rebuilds nothing; a readiness change does', async () => {
    await p.enroll('h1');
    await p.createService('web', { run: 'node server.js', replicas: 1, http: { host: 'web.test' } });
    await p.settle();
    const [placed] = await p.live('web');
    if (placed === undefined) throw new Error('the reconcilers placed no instance of web');

    const fleet = new ObservedFleet(p.store.driver);
    const feed = new RouteTableFeed(p.store, fleet).start();
    try {
      const starting: ReportedInstance = { id: placed.id, state: 'starting', port: 40_001, restarts: 0, since: 1_000, adopted: false };
      await fleet.record('h1', heartbeat(starting, 100));
      const first = await feed.changed(0, 5_000);
      expect(first?.routes?.[0]?.instances).toEqual([{ id: placed.id, address: '10.0.0.1', port: 40_001, ready: false, draining: false }]);

      // Usage moves every heartbeat; the instances do not.
      const refresh = vi.spyOn(feed, 'refresh');
      await fleet.record('h1', heartbeat(starting, 250));
      await fleet.record('h1', heartbeat(starting, 40));
      expect(refresh).not.toHaveBeenCalled();
      expect(await feed.changed(first!.version, 100)).toBeUndefined();

      await fleet.record('h1', heartbeat({ ...starting, state: 'ready', since: 2_000 }, 40));
      expect(refresh).toHaveBeenCalledTimes(1);
      const ready = await feed.changed(first!.version, 5_000);
      expect(ready?.version).toBeGreaterThan(first!.version);
      expect(ready?.routes?.[0]?.instances).toEqual([{ id: placed.id, address: '10.0.0.1', port: 40_001, ready: true, draining: false }]);
    } finally {
      await feed.close();
    }
  });
});
