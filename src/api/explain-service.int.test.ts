// `berth explain` over real HTTP with the store behind it: each link of desired -> placed ->
// running -> ready -> routed broken in turn, named with its evidence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane.fixture.js';
import { startFakeAgent, type FakeAgent } from './fake-agent.fixture.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const spec = { run: 'node server.js', http: { host: 'web.localhost' }, resources: { memory: '256Mi', cpu: 0.25 } };

describe('explain', () => {
  let cp: TestControlPlane;
  let agent: FakeAgent;
  const now = Date.now();

  beforeAll(async () => {
    cp = await startTestControlPlane();
    agent = await startFakeAgent(cp, 'box-1');
    await agent.report([]);
  });
  afterAll(async () => {
    agent?.close();
    await cp?.close();
  });

  it('names an unschedulable service with the scheduler reasons', async () => {
    await cp.createService('huge', { ...spec, http: { host: 'huge.localhost' }, resources: { memory: '64Gi', cpu: 1 } }, DIGEST);
    const e = await cp.admin.explain('huge');
    expect(e.broken).toMatchObject({ link: 'placed', reason: 'unschedulable' });
    expect(e.broken?.message).toMatch(/cannot be placed/);
    expect(e.broken?.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ checker: 'memory' })]));
    expect(e.links.map((l) => [l.link, l.ok])).toEqual([['desired', true], ['placed', false], ['running', true], ['ready', true], ['routed', false], ['rollout', true]]);
  });

  it('names a crash loop with the last exit code and log lines', async () => {
    await cp.createService('web', spec, DIGEST);
    await cp.place('web', 'web-1', agent.hostId);
    agent.logs.set('web-1', ['starting', 'Error: DATABASE_URL is not set', '    at main (server.js:3:9)']);
    await agent.report([{ id: 'web-1', state: 'restarting', restarts: 4, since: now, lastExit: { code: 1, signal: null, oom: false, at: now }, message: 'restarting in 8s' }]);
    const e = await cp.admin.explain('web');
    expect(e.broken).toMatchObject({ link: 'running', reason: 'crash-loop', instance: 'web-1' });
    expect(e.broken?.message).toContain('exit code 1');
    expect(e.broken?.message).toContain('4 restarts');
    expect(e.broken?.logs).toEqual(['starting', 'Error: DATABASE_URL is not set', '    at main (server.js:3:9)']);
  });

  it('names failing health with the probe result', async () => {
    await agent.report([{ id: 'web-1', state: 'unhealthy', restarts: 4, since: now, port: 4100, message: 'ready probe GET /healthz: 503 Service Unavailable' }]);
    const e = await cp.admin.explain('web');
    expect(e.broken).toMatchObject({ link: 'ready', reason: 'failing-health', instance: 'web-1' });
    expect(e.broken?.message).toContain('GET /healthz: 503');
  });

  it('says converged when every link holds', async () => {
    await agent.report([{ id: 'web-1', state: 'ready', restarts: 4, since: now, port: 4100 }]);
    const e = await cp.admin.explain('web');
    expect(e.broken).toBeNull();
    expect(e.service).toMatchObject({ desired: 1, placed: 1, running: 1, ready: 1, routed: 1 });
  });

  it('names an instance that is not routed because it drains', async () => {
    await cp.place('web', 'web-2', agent.hostId, { replica: 1 });
    await cp.requestStop('web', 'web-1', 'drain');
    await agent.report([
      { id: 'web-1', state: 'ready', restarts: 0, since: now, port: 4100 },
      { id: 'web-2', state: 'ready', restarts: 0, since: now, port: 4101 },
    ]);
    const e = await cp.admin.explain('web');
    expect(e.broken).toMatchObject({ link: 'routed', reason: 'draining', instance: 'web-1' });
    expect(e.broken?.message).toMatch(/draining \(drain\)/);
    expect(e.instances.find((i) => i.id === 'web-1')).toMatchObject({ routed: false, stopReason: 'drain' });
    expect(e.instances.find((i) => i.id === 'web-2')).toMatchObject({ routed: true });
  });

  it('lists every service in status with its counts', async () => {
    const status = await cp.admin.status();
    const web = status.services.find((s) => s.name === 'web');
    expect(web).toMatchObject({ desired: 1, placed: 1, running: 1, ready: 1, routed: 1, scale: { mode: 'fixed', replicas: 1 }, route: { http: { host: 'web.localhost', path: '/' } } });
    expect(status.services.find((s) => s.name === 'huge')).toMatchObject({ desired: 1, placed: 0 });
    await expect(cp.admin.serviceStatus('nope')).rejects.toMatchObject({ status: 404 });
  });
});
