// Two control planes on one real Postgres (BERTH_TEST_DATABASE_URL), as `berth server` replicas
// run: an agent's heartbeats to one of them are the other's observed state within seconds — the
// route table it gives edges (and its long-polls wake), its status and host views, and the
// leader's idea of which hosts are alive (src/api/observed-fleet.ts). Skipped without the variable.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import type { RouteTableDocument } from '../edge/route-table.js';
import { startTestReplicas, until, type TestControlPlane } from './control-plane.fixture.js';
import { startFakeAgent } from './fake-agent.fixture.js';
import { testServerUrl } from '../store/test-database.fixture.js';


/** `GET /v1/edge/routes` as an edge asks it; undefined on 204 (nothing changed within `wait`). */
async function routeTable(cp: TestControlPlane, token: string, after?: number, wait = 10_000): Promise<RouteTableDocument | undefined> {
  const query = after === undefined ? '' : `?after=${after}&wait=${wait}`;
  const response = await fetch(`${cp.url}/v1/edge/routes${query}`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status === 204) return undefined;
  expect(response.status).toBe(200);
  return (await response.json()) as RouteTableDocument;
}

const instancesOf = (table: RouteTableDocument | undefined, service: string) => table?.routes?.find((r) => r.service === service)?.instances;

if (testServerUrl) {
  describe('observed state across two replicas', () => {
    test("an agent's heartbeats to A are B's route table, status and host view; a long-poll on B wakes", async () => {
      const { a, b, close } = await startTestReplicas();
      try {
        const agent = await startFakeAgent(a, 'box-1');
        await a.createService('web', { run: 'node server.js', replicas: 1, http: { host: 'web.test' } }, 'sha256:web');
        await a.place('web', 'web-1', agent.hostId);
        const { token } = await a.tokens.issue({ scope: 'edge', name: 'edges' });
        // B has the route (from the event log), and no instance yet: no agent has reported one
        const before = await until('the route on B', async () => {
          const table = await routeTable(b, token);
          return instancesOf(table, 'web')?.length === 0 ? table : undefined;
        });

        const starting = { id: 'web-1', state: 'starting' as const, port: 40_001, restarts: 0, since: Date.now() };
        const polled = routeTable(b, token, before!.version);
        await agent.report([starting]);
        const first = await polled;
        expect(instancesOf(first, 'web')).toEqual([{ id: 'web-1', address: '127.0.0.1', port: 40_001, ready: false, draining: false }]);

        const ready = routeTable(b, token, first!.version);
        const reportedAt = Date.now();
        await agent.report([{ ...starting, state: 'ready', since: Date.now() }]);
        const second = await ready;
        expect(Date.now() - reportedAt).toBeLessThan(3_000);
        expect(second!.version).toBeGreaterThan(first!.version);
        expect(instancesOf(second, 'web')).toEqual([{ id: 'web-1', address: '127.0.0.1', port: 40_001, ready: true, draining: false }]);

        // the status and host views agree with A's
        const [onA, onB] = await Promise.all([a.admin.serviceStatus('web'), b.admin.serviceStatus('web')]);
        expect(onB).toMatchObject({ placed: 1, running: 1, ready: 1, routed: 1 });
        expect({ ...onB, messages: [] }).toEqual({ ...onA, messages: [] });
        const [hostOnA, hostOnB] = await Promise.all([a.admin.host(agent.hostId), b.admin.host(agent.hostId)]);
        expect(hostOnB).toMatchObject({ state: 'ready', usedMemory: 2 ** 30, memoryEnforcement: 'cgroup-v2' });
        expect(Math.abs(Date.parse(hostOnB.lastHeartbeat!) - Date.parse(hostOnA.lastHeartbeat!))).toBeLessThan(1_000);

        // the agent falls silent: its last heartbeat stays where it was on both, and ages
        const silentSince = Date.parse(hostOnA.lastHeartbeat!);
        await sleep(2_500);
        expect(Date.parse((await a.admin.host(agent.hostId)).lastHeartbeat!)).toBe(silentSince);
        expect(Math.abs(Date.parse((await b.admin.host(agent.hostId)).lastHeartbeat!) - silentSince)).toBeLessThan(1_000);
        agent.close();
      } finally {
        await close();
      }
    });

    test('the leader keeps a host alive on heartbeats a follower takes, and marks it lost when they stop, as both replicas then show', async () => {
      const { a, b, close } = await startTestReplicas({ heartbeatTimeoutMs: 2_000 });
      let beating = true;
      try {
        const leader = await until('a leader', () => (a.loops?.isLeader() ? a : b.loops?.isLeader() ? b : undefined));
        const follower = leader === a ? b : a;
        const agent = await startFakeAgent(follower, 'box-2');
        const heartbeats = (async () => {
          while (beating) {
            // a failed assertion closes the replicas under it
            await agent.report([]).catch(() => undefined);
            await sleep(300);
          }
        })();
        // twice the timeout on heartbeats the leader never took itself
        await sleep(4_000);
        expect(leader.loops?.status.host(agent.hostId)?.status).toBe('active');
        for (const cp of [a, b]) expect((await cp.admin.host(agent.hostId)).state).toBe('ready');

        beating = false;
        await heartbeats;
        const stoppedAt = Date.now();
        await until('the host lost on both replicas', async () => {
          const states = await Promise.all([a, b].map(async (cp) => (await cp.admin.host(agent.hostId)).state));
          return states.every((s) => s === 'lost') ? states : undefined;
        });
        // the timeout, a read of the tables and a pass: not the leader's grace for a host it never heard
        expect(Date.now() - stoppedAt).toBeLessThan(2_000 + 3_000);
        agent.close();
      } finally {
        beating = false;
        await close();
      }
    });
  });
} else {
  describe('observed state across two replicas', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
