// Services, releases and the edge's route table over real HTTP, with the control loops off so
// each test places and reports instances itself.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthClient } from '../../client/berth-client.js';
import { packReleaseArchive } from '../../client/release-archive.js';
import { parseRouteTable } from '../../edge/route-table.js';
import { startTestControlPlane, type TestControlPlane } from '../control-plane.fixture.js';
import { testMachine } from '../fake-agent.fixture.js';
import type { EnrollRequest } from '../protocol/agent-protocol.js';

const HELLO = fileURLToPath(new URL('../../../examples/hello', import.meta.url));

// The agent's machine as it enrolls: no memory enforcement and no optional capabilities.
const machine: EnrollRequest['machine'] = { ...testMachine, memoryEnforcement: 'none', capabilities: {} };

const spec = { run: 'node server.js', http: { host: 'hello.localhost' }, resources: { memory: '64Mi', cpu: 0.1 }, env: { GREETING: 'hi' } };

describe('services, releases and the route table', () => {
  let cp: TestControlPlane;
  let agent: BerthClient;
  let hostId: string;
  let digest: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    const { token } = await cp.admin.createJoinToken({});
    const enrolled = await new BerthClient({ url: cp.url, token }).enroll({ name: 'box', address: '10.0.0.5', machine });
    hostId = enrolled.hostId;
    agent = new BerthClient({ url: cp.url, token: enrolled.token });
    const packed = await packReleaseArchive(HELLO);
    digest = packed.digest;
    await cp.admin.putArtifact(digest, packed.archive);
  });
  afterAll(() => cp?.close());

  it('refuses a bad spec naming the field, and writes nothing', async () => {
    const bad = await cp.admin.createRelease('web', { digest, spec: { ...spec, resources: { memory: '64MB' } } }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 'validation' });
    expect((bad as Error).message).toContain('body.spec.resources.memory');
    expect(await cp.admin.service('web').catch((e: unknown) => e)).toMatchObject({ status: 404 });
    const missing = await cp.admin.createRelease('web', { digest: `sha256:${'0'.repeat(64)}`, spec }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 400 });
    expect((missing as Error).message).toContain('body.digest');
  });

  it('creates the service with its first release, rolled out, and lists releases without secret values', async () => {
    const created = await cp.admin.createRelease('web', { digest, spec });
    expect(created).toEqual({ service: 'web', release: 1, serviceCreated: true, rolloutStarted: true });
    const web = await cp.admin.service('web');
    expect(web).toMatchObject({ latestRelease: 1, rollout: { release: 1, previous: null }, replicas: 1 });
    const second = await cp.admin.createRelease('web', { digest, spec: { ...spec, env: { GREETING: 'hello' } } });
    expect(second.release).toBe(2);
    const { releases } = await cp.admin.releases('web');
    expect(releases.map((r) => [r.version, r.rollingOut])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it('refuses a route another service has', async () => {
    const taken = await cp.admin.putService('other', { spec: { run: 'x', http: { host: 'hello.localhost' } } }).catch((e: unknown) => e);
    expect(taken).toMatchObject({ status: 400 });
    expect((taken as Error).message).toContain('body.spec.http.host');
  });

  it('rolls back to an earlier release as a new one, and resizes as a new one', async () => {
    const back = await cp.admin.rollback('web', { to: 1 });
    expect(back).toMatchObject({ release: 3, restoredFrom: 1 });
    const resized = await cp.admin.resize('web', { memory: '128Mi' });
    expect(resized.release).toBe(4);
    const { releases } = await cp.admin.releases('web');
    expect(releases[2]?.digest).toBe(digest);
    expect((releases[3]?.spec.resources as { memory: number }).memory).toBe(128 * 2 ** 20);
    const bad = await cp.admin.resize('web', { cpu: 'lots' }).catch((e: unknown) => e);
    expect((bad as Error).message).toContain('body.cpu');
  });

  it('serves the route table to edge tokens: ready instances, draining ones marked, long-poll on changes', async () => {
    const edgeToken = (await cp.tokens.issue({ scope: 'edge', name: 'test edge' })).token;
    const poll = async (after: number) => {
      const response = await fetch(`${cp.url}/v1/edge/routes?after=${after}&wait=2000`, { headers: { authorization: `Bearer ${edgeToken}` } });
      return { status: response.status, body: response.status === 200 ? (await response.json()) : undefined };
    };
    await cp.place('web', 'web-a', hostId, { release: 4 });
    await cp.place('web', 'web-b', hostId, { release: 4, replica: 1 });
    await agent.heartbeat({
      usage: { memory: { total: 8 * 2 ** 30, used: 0 }, cpu: { cores: 4, millicores: 0 } },
      instances: [
        { id: 'web-a', state: 'ready', port: 31001, restarts: 0, since: Date.now() },
        { id: 'web-b', state: 'starting', port: 31002, restarts: 0, since: Date.now() },
      ],
      agent: { version: 'test', memoryEnforcement: 'none' },
    });
    let table = parseRouteTable((await poll(-1)).body);
    for (let i = 0; table.ok && table.table.routes[0]?.instances.length !== 2 && i < 50; i++) table = parseRouteTable((await poll(table.table.version)).body ?? table.table);
    expect(table.ok).toBe(true);
    if (!table.ok) return;
    expect(table.table.routes).toEqual([
      expect.objectContaining({
        host: 'hello.localhost',
        pathPrefix: '/',
        service: 'web',
        drainGraceMs: 30_000,
        instances: [
          { id: 'web-a', address: '10.0.0.5', port: 31001, ready: true, draining: false },
          { id: 'web-b', address: '10.0.0.5', port: 31002, ready: false, draining: false },
        ],
      }),
    ]);
    expect((await poll(table.table.version)).status).toBe(204);
    const held = poll(table.table.version);
    await cp.requestStop('web', 'web-a');
    const next = parseRouteTable((await held).body);
    expect(next.ok && next.table.routes[0]?.instances.find((i) => i.id === 'web-a')?.draining).toBe(true);
    expect(await fetch(`${cp.url}/v1/edge/routes`, { headers: { authorization: `Bearer ${(await cp.admin.createJoinToken({})).token}` } }).then((r) => r.status)).toBe(403);
  });

  it('deletes a service', async () => {
    await cp.admin.deleteService('web');
    expect(await cp.admin.service('web').catch((e: unknown) => e)).toMatchObject({ status: 404 });
    expect((await cp.admin.services()).services.map((s) => s.id)).not.toContain('web');
  });
});
