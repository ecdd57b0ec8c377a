// Two control planes on one real Postgres (BERTH_TEST_DATABASE_URL), as `berth server` replicas
// run: what an edge, a pusher or an agent tells one of them is what the other reads — the edges'
// load for the leader's autoscaler, their drain state for any replica's answer to an agent, and
// activations, each taken once. Skipped without the variable, as the other Postgres suites are.
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { BerthClient } from '../client/berth-client.js';
import { EDGE_REPORT_TTL_MS } from '../reconcile/load-reports.js';
import { startTestReplicas, until, type TestControlPlane, type TestReplicas } from './control-plane.fixture.js';
import { startFakeAgent, type FakeAgent } from './fake-agent.fixture.js';
import type { EdgeMetrics } from './protocol/load-protocol.js';
import { testServerUrl } from '../store/test-database.fixture.js';


type Line = EdgeMetrics['services'][number];
const line = (service: string, concurrency: number, instances: { id: string; leaving: boolean; drained: boolean }[] = []): Line => ({
  service,
  inFlight: concurrency,
  concurrency,
  requests: concurrency * 10,
  rps: concurrency * 10,
  queued: 0,
  rejected: 0,
  instances,
});
const report = (edge: string, services: Line[]) => ({ edge, at: new Date().toISOString(), intervalMs: 1_000, routeTableVersion: 1, services });

if (testServerUrl) {
  describe('edge reports, metrics and activations across two replicas', () => {
    let replicas: TestReplicas;
    let a: TestControlPlane;
    let b: TestControlPlane;
    let edgeToA: BerthClient;
    let edgeToB: BerthClient;
    let agentOnB: FakeAgent;

    beforeAll(async () => {
      replicas = await startTestReplicas();
      ({ a, b } = replicas);
      const { token } = await a.tokens.issue({ scope: 'edge', name: 'edges' });
      edgeToA = new BerthClient({ url: a.url, token });
      edgeToB = new BerthClient({ url: b.url, token });
      agentOnB = await startFakeAgent(b, 'box-1');
      await a.createService('web', { run: 'node server.js', scale: { min: 1, max: 10, target: { concurrency: 10 } } }, 'sha256:web');
      await a.createService('lazy', { run: 'node lazy.js', scale: { min: 0, max: 3, target: { concurrency: 10 }, idle: '2m' } }, 'sha256:lazy');
      await a.createService('worker', { run: 'node worker.js', scale: { min: 1, max: 10, target: { metric: 'queue_depth', value: 100 } } }, 'sha256:worker');
      for (const id of ['web-1', 'web-2']) await a.place('web', id, agentOnB.hostId);
    });
    afterAll(async () => {
      agentOnB?.close();
      await replicas?.close();
    });

    it("an edge's report to A is B's load reading, B's autoscaler input and B's drain answer", async () => {
      await edgeToA.pushEdgeMetrics(report('edge-1', [line('web', 30, [{ id: 'web-1', leaving: true, drained: false }, { id: 'web-2', leaving: false, drained: false }])]));
      expect((await b.autoscaler.loads.read()).edgeLoad(['web'])).toEqual({ concurrency: 30, rps: 300, queued: 0, open: 30, edges: 1 });
      const evaluation = (await b.autoscaler.tick()).find((e) => e.service === 'web');
      expect(evaluation?.waiting).toBeUndefined();
      expect(evaluation?.inputs.value).toBe(30);
      expect(await agentOnB.client.drains(['web-1', 'web-2'])).toEqual({
        instances: [
          { id: 'web-1', drained: false, holding: ['edge-1'] },
          { id: 'web-2', drained: false, holding: ['edge-1'] },
        ],
      });
      // The edge moves to B: its report there replaces the one it left on A.
      await edgeToB.pushEdgeMetrics(report('edge-1', [line('web', 5, [{ id: 'web-1', leaving: true, drained: true }])]));
      expect((await a.autoscaler.loads.read()).edgeLoad(['web'])?.concurrency).toBe(5);
      expect((await agentOnB.client.drains(['web-1', 'web-2'])).instances).toEqual([
        { id: 'web-1', drained: true, holding: [] },
        { id: 'web-2', drained: true, holding: [] },
      ]);
    });

    it("a report older than the TTL, on the database's clock, is no load on either replica, and no drain word once another edge reports", async () => {
      await edgeToA.pushEdgeMetrics(report('edge-2', [line('web', 7, [{ id: 'web-2', leaving: false, drained: false }])]));
      expect((await agentOnB.client.drains(['web-2'])).instances).toEqual([{ id: 'web-2', drained: false, holding: ['edge-2'] }]);
      // every edge falls silent: the rows age past the TTL (the clock the replicas compare with is the database's)
      await a.store.driver.query(`UPDATE observed_edge_loads SET received_at = received_at - interval '${EDGE_REPORT_TTL_MS + 1_000} milliseconds'`);
      const evaluation = (await b.autoscaler.tick()).find((e) => e.service === 'web');
      expect(evaluation?.waiting).toBe('no edge has reported web in the last 5s');
      // silence alone is not drained: edge-2's word stands while no edge has reported since
      expect((await agentOnB.client.drains(['web-2'])).instances).toEqual([{ id: 'web-2', drained: false, holding: ['edge-2'] }]);
      // edge-1 reports again, to B: edge-2 is the one gone
      await edgeToB.pushEdgeMetrics(report('edge-1', [line('web', 1)]));
      expect((await agentOnB.client.drains(['web-2'])).instances).toEqual([{ id: 'web-2', drained: true, holding: [] }]);
    });

    it('a metric pushed to A is read on B', async () => {
      const pushed = await a.admin.pushMetric('worker', { metric: 'queue_depth', value: 420 });
      expect(pushed).toMatchObject({ service: 'worker', value: 420, target: 'queue_depth' });
      expect((await b.autoscaler.loads.read()).externalMetric(['worker'], 'queue_depth')?.value).toBe(420);
      expect((await b.autoscaler.tick()).find((e) => e.service === 'worker')?.inputs.value).toBe(420);
    });

    it('activations sent to either replica are taken once, by whichever takes first', async () => {
      expect(await edgeToA.activate('lazy', { edge: 'edge-1', queued: 1 })).toEqual({ service: 'lazy', replicas: 1, activated: true });
      for (let queued = 2; queued <= 10; queued++) {
        const answer = await (queued % 2 === 0 ? edgeToB : edgeToA).activate('lazy', { edge: 'edge-1', queued });
        expect(answer.activated).toBe(false);
      }
      const [onA, onB] = await Promise.all([a.autoscaler.loads.takeActivations(), b.autoscaler.loads.takeActivations()]);
      expect([...onA, ...onB].map((x) => x.queued).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect([...(await a.autoscaler.loads.takeActivations()), ...(await b.autoscaler.loads.takeActivations())]).toEqual([]);
    });
  });

  test('the leader autoscales on a report sent to the replica that does not lead', async () => {
    const { a, b, close } = await startTestReplicas({});
    try {
      const leader = await until('a leader', () => (a.loops?.isLeader() ? a : b.loops?.isLeader() ? b : undefined));
      const follower = leader === a ? b : a;
      await leader.createService('web', { run: 'node server.js', scale: { min: 1, max: 10, target: { concurrency: 10 } } }, 'sha256:web');
      const { token } = await a.tokens.issue({ scope: 'edge', name: 'edge-1' });
      const edge = new BerthClient({ url: follower.url, token });
      const evaluation = await until('the leader reading the edge report', async () => {
        await edge.pushEdgeMetrics(report('edge-1', [line('web', 40)]));
        const seen = leader.autoscaler.evaluation('web');
        return seen?.inputs.value === 40 ? seen : undefined;
      });
      expect(evaluation.waiting).toBeUndefined();
      expect(follower.autoscaler.evaluation('web')).toBeUndefined();
    } finally {
      await close();
    }
  });
} else {
  describe('edge reports, metrics and activations across two replicas', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
