// `POST /v1/agent/drains` over real HTTP: an agent about to stop instances asks whether the edges
// are done with them, and the answer comes from the edges' reports to `POST /v1/edge/metrics`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceLoad, ServiceLoad } from '../edge/metrics-report.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane.fixture.js';
import { startFakeAgent, type FakeAgent } from './fake-agent.fixture.js';

const instance = (id: string, leaving: boolean, drained: boolean): InstanceLoad => ({ id, inFlight: drained ? 0 : 1, connections: 0, requests: 0, errors: 0, latencyMs: null, ready: true, leaving, drained });

const service = (instances: InstanceLoad[]): ServiceLoad => ({
  service: 'web',
  kind: 'http',
  mode: 'per-request',
  inFlight: 0,
  concurrency: 0,
  requests: 0,
  rps: 0,
  statuses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
  latencyMs: null,
  connections: 0,
  queued: 0,
  rejected: 0,
  retries: 0,
  instances,
});

async function post(cp: TestControlPlane, path: string, token: string, body: unknown): Promise<number> {
  const response = await fetch(cp.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  await response.text();
  return response.status;
}

describe('POST /v1/agent/drains', () => {
  let cp: TestControlPlane;
  let own: FakeAgent;
  let other: FakeAgent;
  let edgeToken: string;

  const report = (edge: string, instances: InstanceLoad[]) =>
    post(cp, '/v1/edge/metrics', edgeToken, { edge, at: new Date().toISOString(), intervalMs: 1000, routeTableVersion: 3, services: [service(instances)] });

  beforeAll(async () => {
    cp = await startTestControlPlane();
    edgeToken = (await cp.tokens.issue({ scope: 'edge', name: 'edges' })).token;
    [own, other] = [await startFakeAgent(cp, 'box-1'), await startFakeAgent(cp, 'box-2')];
    await cp.createService('web', { run: 'node server.js', replicas: 0 }, 'sha256:web');
    for (const id of ['web-busy', 'web-done', 'web-unseen']) await cp.place('web', id, own.hostId);
    await cp.place('web', 'web-elsewhere', other.hostId);
  });
  afterAll(async () => {
    own?.close();
    other?.close();
    await cp?.close();
  });

  it("answers from every edge's latest report, for the asking host's instances only", async () => {
    expect(await report('edge-a', [instance('web-busy', true, false), instance('web-done', true, true), instance('web-elsewhere', true, false)])).toBe(204);
    expect(await report('edge-b', [instance('web-busy', false, false), instance('web-done', true, true)])).toBe(204);
    const answer = await own.client.drains(['web-busy', 'web-done', 'web-unseen', 'web-unplaced', 'web-elsewhere']);
    // web-unseen is listed by no edge (none routes it); web-unplaced and the other host's web-elsewhere are left out
    expect(answer).toEqual({
      instances: [
        { id: 'web-busy', drained: false, holding: ['edge-a', 'edge-b'] },
        { id: 'web-done', drained: true, holding: [] },
        { id: 'web-unseen', drained: true, holding: [] },
      ],
    });
    // a newer report from edge-a replaces its last one
    expect(await report('edge-a', [instance('web-busy', true, true)])).toBe(204);
    expect((await own.client.drains(['web-busy'])).instances).toEqual([{ id: 'web-busy', drained: false, holding: ['edge-b'] }]);
  });

  it('is for agents only', async () => {
    expect(await post(cp, '/v1/agent/drains', edgeToken, { instances: ['web-busy'] })).toBe(403);
    expect(await post(cp, '/v1/agent/drains', cp.adminToken, { instances: ['web-busy'] })).toBe(403);
  });
});
