// The host lifecycle over real HTTP: list with allocatable vs placed, cordon, uncordon, drain
// carried out by the control loops, decommission refused while a volume remains and revoking
// the host's credential once done.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volumeStream } from '../../domain/streams.js';
import { startTestControlPlane, type TestControlPlane } from '../control-plane.fixture.js';
import { startFakeAgent, type FakeAgent } from '../fake-agent.fixture.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;

describe('hosts', () => {
  let cp: TestControlPlane;
  let box1: FakeAgent;
  let box2: FakeAgent;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    box1 = await startFakeAgent(cp, 'box-1', { region: 'eu', labels: { zone: 'a' } });
    box2 = await startFakeAgent(cp, 'box-2');
    await cp.createService('web', { run: 'node server.js', resources: { memory: '512Mi', cpu: 0.5 } }, DIGEST);
    await cp.place('web', 'web-1', box1.hostId);
    await box1.report([{ id: 'web-1', state: 'ready', restarts: 0, since: Date.now(), port: 4000 }]);
  });
  afterAll(async () => {
    box1?.close();
    box2?.close();
    await cp?.close();
  });

  it('lists hosts with allocatable vs placed, instances, heartbeat and memory enforcement', async () => {
    const { hosts } = await cp.admin.hosts();
    const one = hosts.find((h) => h.id === box1.hostId);
    expect(one).toMatchObject({
      name: 'box-1',
      state: 'ready',
      region: 'eu',
      labels: { zone: 'a' },
      allocatable: { memory: 7 * 2 ** 30, cpu: 4000 },
      placed: { memory: 512 * 2 ** 20, cpu: 500 },
      instances: 1,
      memoryEnforcement: 'cgroup-v2',
      drain: null,
    });
    expect(Date.now() - Date.parse(one?.lastHeartbeat ?? '')).toBeLessThan(60_000);
    expect(hosts.find((h) => h.id === box2.hostId)).toMatchObject({ placed: { memory: 0, cpu: 0 }, instances: 0 });
  });

  it('cordons and uncordons by name, and names an unknown host', async () => {
    expect(await cp.admin.cordonHost('box-2', { reason: 'kernel update' })).toMatchObject({ state: 'cordoned' });
    expect(await cp.admin.uncordonHost('box-2')).toMatchObject({ state: 'ready' });
    await expect(cp.admin.cordonHost('nope')).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/host nope is not enrolled/) });
  });

  it('refuses a drain with a bad deadline, naming the field', async () => {
    await expect(cp.admin.drainHost('box-2', { deadline: 'soon' })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/body\.deadline: "soon" is not a duration/) });
    await expect(cp.admin.drainHost('box-2', { maxParallel: 0 })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/body\.maxParallel/) });
  });

  it('records a drain with its deadline and max parallel, and refuses to decommission a host that still runs instances', async () => {
    const before = Date.now();
    const draining = await cp.admin.drainHost('box-1', { deadline: '30m', maxParallel: 2 });
    expect(draining).toMatchObject({ state: 'draining', drain: { maxParallel: 2, remaining: 1 } });
    expect(Date.parse(draining.drain?.deadline ?? '') - before).toBeGreaterThanOrEqual(30 * 60_000 - 1_000);
    const events = await cp.store.readStream(`host-${box1.hostId}`);
    expect(events.events.at(-1)).toMatchObject({ type: 'HostDrainStarted', data: { maxParallel: 2 } });
    await expect(cp.admin.decommissionHost('box-1')).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/still runs 1 instances; drain it first/) });
  });

  it('refuses to decommission while a volume remains, then revokes the credential once decommissioned', async () => {
    await cp.admin.cordonHost('box-2');
    await cp.store.append(volumeStream('data'), [{ type: 'VolumeCreated', data: { name: 'data', tenant: 'default', service: 'db', host: box2.hostId, size: 2 ** 30 } }], { expectedVersion: 0 });
    await expect(cp.admin.decommissionHost('box-2')).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/still holds volumes data/) });
    await box2.report([]);
    await cp.store.append(volumeStream('data'), [{ type: 'VolumeDeleted', data: {} }], { expectedVersion: 1 });
    expect(await cp.admin.decommissionHost('box-2')).toMatchObject({ state: 'decommissioned' });
    await expect(box2.report([])).rejects.toMatchObject({ status: 401 });
    // Idempotent: asking again finds it decommissioned.
    expect(await cp.admin.decommissionHost(box2.hostId)).toMatchObject({ state: 'decommissioned' });
  });

  it('needs an admin token', async () => {
    await expect(box1.client.hosts()).rejects.toMatchObject({ status: 403 });
  });
});

describe('drain carried out by the control loops', () => {
  it('moves the instance to another host, then leaves the drained host cordoned', async () => {
    const cp = await startTestControlPlane({ controlLoops: { resyncIntervalMs: 200 } });
    const [a, b] = [await startFakeAgent(cp, 'a'), await startFakeAgent(cp, 'b')];
    try {
      await cp.createService('api', { run: 'node server.js', resources: { memory: '256Mi', cpu: 0.25 }, deploy: { minHealthy: '0s' } }, DIGEST);
      // The loops may already have placed an instance of release 1: the rollout does not depend on it.
      await cp.store.append('service-api', [{ type: 'RolloutStarted', data: { release: 1, previous: null } }], { expectedVersion: 'any' });
      // Each agent reports what it is assigned as ready, as a healthy host would.
      const readyAll = async (agent: typeof a): Promise<void> => {
        const set = await agent.client.assignments();
        await agent.report(set.instances.map((i) => ({ id: i.instance, state: 'ready', restarts: 0, since: Date.now() - 60_000, port: 5000 })));
      };
      const settle = async (until: () => Promise<boolean>): Promise<void> => {
        for (let i = 0; i < 200 && !(await until()); i++) {
          await readyAll(a);
          await readyAll(b);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await settle(async () => (await cp.admin.serviceStatus('api')).ready === 1);
      const first = (await cp.admin.hosts()).hosts.find((h) => h.instances === 1);
      expect(first).toBeDefined();
      await cp.admin.drainHost(first!.id, { deadline: '10m' });
      await settle(async () => (await cp.admin.host(first!.id)).state === 'cordoned');
      const hosts = (await cp.admin.hosts()).hosts;
      expect(hosts.find((h) => h.id === first!.id)).toMatchObject({ state: 'cordoned', instances: 0, drain: null });
      expect(hosts.find((h) => h.id !== first!.id)).toMatchObject({ state: 'ready', instances: 1 });
    } finally {
      a.close();
      b.close();
      await cp.close();
    }
  });
});
