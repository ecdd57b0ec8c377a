// LoadReports on PGlite: what one control plane writes of the edges' reports, external metrics
// and activations, and what the leader's tick and the agents' drain questions read back. The
// tests with a `clock` move time themselves; the last ones age rows on the database's clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore } from '../store/event-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import type { EdgeInstanceState } from './drain-at-edges.js';
import { EDGE_REPORT_TTL_MS, EDGE_ROW_KEEP_MS, LoadReports, METRIC_TTL_MS, type EdgeLoadReport } from './load-reports.js';

const busy: EdgeInstanceState = { leaving: true, drained: false };
const done: EdgeInstanceState = { leaving: true, drained: true };
const serving: EdgeInstanceState = { leaving: false, drained: false };

const line = (service: string, concurrency: number, instances?: readonly ({ id: string } & EdgeInstanceState)[]): EdgeLoadReport['services'][number] => ({
  service,
  concurrency,
  rps: concurrency * 10,
  queued: 0,
  ...(instances === undefined ? {} : { instances }),
});

let store: EventStore;
let now: number;
let loads: LoadReports;

beforeEach(async () => {
  store = await EventStore.open(await openPgliteDriver());
  now = Date.parse('2030-01-01T00:00:00Z');
  loads = new LoadReports(store.driver, { clock: () => new Date(now) });
});
afterEach(() => store.close());

const rows = async (table: string): Promise<number> => (await store.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

describe('drains', () => {
  it("reads each edge's latest report, for many instances at once, and passes over an edge silent while another reports", async () => {
    await loads.edgeReport({ edge: 'a', services: [line('web', 1, [{ id: 'web-1', ...busy }, { id: 'web-2', ...done }])] });
    await loads.edgeReport({ edge: 'b', services: [line('web', 1, [{ id: 'web-1', ...done }, { id: 'web-2', ...serving }])] });
    expect(await loads.drainAtEdges(['web-1', 'web-2', 'web-3'])).toEqual(
      new Map([
        ['web-1', { drained: false, holding: ['a'] }],
        ['web-2', { drained: false, holding: ['b'] }],
        ['web-3', { drained: true, holding: [] }],
      ]),
    );
    // a newer report of the same edge replaces its last one
    await loads.edgeReport({ edge: 'a', services: [line('web', 1, [{ id: 'web-1', ...done }])] });
    expect((await loads.drainAtEdges(['web-1'])).get('web-1')).toEqual({ drained: true, holding: [] });
    await loads.edgeReport({ edge: 'a', services: [line('web', 1, [{ id: 'web-1', ...busy }])] });
    // a falls silent; b goes on reporting (without web-1): a's word counts until it is the TTL older than b's
    now += EDGE_REPORT_TTL_MS;
    await loads.edgeReport({ edge: 'b', services: [line('web', 1)] });
    expect((await loads.drainAtEdges(['web-1'])).get('web-1')).toEqual({ drained: false, holding: ['a'] });
    now += 1;
    await loads.edgeReport({ edge: 'b', services: [line('web', 1)] });
    expect((await loads.drainAtEdges(['web-1'])).get('web-1')).toEqual({ drained: true, holding: [] });
  });

  it('takes no silence for drained: while no edge has reported since, the last report stands, until its row is dropped', async () => {
    await loads.edgeReport({ edge: 'a', services: [line('web', 1, [{ id: 'web-1', ...busy }])] });
    now += 10 * EDGE_REPORT_TTL_MS;
    expect((await loads.drainAtEdges(['web-1'])).get('web-1')).toEqual({ drained: false, holding: ['a'] });
    // the leader's reading keeps the row; the load no longer counts it
    expect((await loads.read()).edgeLoad(['web'])).toBeUndefined();
    expect(await rows('observed_edge_loads')).toBe(1);
    now += EDGE_ROW_KEEP_MS;
    await loads.read();
    expect(await rows('observed_edge_loads')).toBe(0);
    expect((await loads.drainAtEdges(['web-1'])).get('web-1')).toEqual({ drained: true, holding: [] });
  });

  it('takes a report without instance lists as listing none, and a question about none as no query', async () => {
    await loads.edgeReport({ edge: 'a', services: [line('web', 3)] });
    expect(await loads.drainAtEdges(['web-1'])).toEqual(new Map([['web-1', { drained: true, holding: [] }]]));
    expect(await loads.drainAtEdges([])).toEqual(new Map());
  });

  it('finds an instance listed under any service of the report', async () => {
    await loads.edgeReport({ edge: 'a', services: [line('web', 0), line('api', 0, [{ id: 'api-1', ...busy }])] });
    expect((await loads.drainAtEdges(['api-1'])).get('api-1')).toEqual({ drained: false, holding: ['a'] });
  });
});

describe('the leader reading once per tick', () => {
  it('sums the fresh edges under any of the service names; a silent edge drops out of the load, and its row goes once it is kept no longer', async () => {
    await loads.edgeReport({ edge: 'a', services: [line('web', 4), line('api', 1)] });
    now += 3_000;
    await loads.edgeReport({ edge: 'b', services: [{ service: 'svc-web', concurrency: 2, rps: 5, queued: 3 }] });
    let snapshot = await loads.read();
    // open: the reports carry no inFlight (as from an edge before it), so their mean concurrency and queue stand in
    expect(snapshot.edgeLoad(['svc-web', 'web'])).toEqual({ concurrency: 9, rps: 45, queued: 3, open: 9, edges: 2 });
    expect(snapshot.edgeLoad(['api'])).toEqual({ concurrency: 1, rps: 10, queued: 0, open: 1, edges: 1 });
    expect(snapshot.edgeLoad(['nope'])).toBeUndefined();

    now += EDGE_REPORT_TTL_MS - 3_000 + 1;
    snapshot = await loads.read();
    expect(snapshot.edgeLoad(['svc-web', 'web'])).toEqual({ concurrency: 5, rps: 5, queued: 3, open: 5, edges: 1 });
    expect(snapshot.edgeLoad(['api'])).toBeUndefined();
    // its drain word is kept (drain-at-edges.ts), so its row too
    expect(await rows('observed_edge_loads')).toBe(2);
    now += EDGE_ROW_KEEP_MS - EDGE_REPORT_TTL_MS;
    await loads.edgeReport({ edge: 'b', services: [{ service: 'svc-web', concurrency: 2, rps: 5, queued: 3 }] });
    await loads.read();
    expect(await rows('observed_edge_loads')).toBe(1);
  });

  it('reads the latest external metric within its TTL, with when it came', async () => {
    const pushed = await loads.metric('worker', 'queue_depth', 420);
    expect(pushed).toEqual({ value: 420, at: now });
    now += 1_000;
    await loads.metric('worker', 'queue_depth', 380);
    await loads.metric('worker', 'other', 1);
    now += 500;
    expect((await loads.read()).externalMetric(['worker'], 'queue_depth')).toEqual({ value: 380, at: now - 500 });
    now += METRIC_TTL_MS - 500 + 1;
    const snapshot = await loads.read();
    expect(snapshot.externalMetric(['worker'], 'queue_depth')).toBeUndefined();
    expect(await rows('observed_metrics')).toBe(0);
  });

  it('hands out each activation once, oldest first, timed on the reader clock', async () => {
    await loads.activation('web', 'edge-1', 2);
    now += 100;
    await loads.activation('api', 'edge-2', 1);
    now += 900;
    expect(await loads.takeActivations()).toEqual([
      { service: 'web', edge: 'edge-1', queued: 2, at: now - 1_000 },
      { service: 'api', edge: 'edge-2', queued: 1, at: now - 900 },
    ]);
    expect(await loads.takeActivations()).toEqual([]);
  });
});

describe("on the database's clock (no clock given)", () => {
  it('a report is fresh until its received_at is the TTL old', async () => {
    const live = new LoadReports(store.driver);
    await live.edgeReport({ edge: 'a', services: [line('web', 4, [{ id: 'web-1', ...busy }])] });
    expect((await live.read()).edgeLoad(['web'])?.concurrency).toBe(4);
    expect((await live.drainAtEdges(['web-1'])).get('web-1')?.drained).toBe(false);
    await store.driver.query(`UPDATE observed_edge_loads SET received_at = received_at - interval '${EDGE_REPORT_TTL_MS + 1_000} milliseconds'`);
    expect((await live.read()).edgeLoad(['web'])).toBeUndefined();
    // its drain word stands until another edge reports
    expect((await live.drainAtEdges(['web-1'])).get('web-1')?.drained).toBe(false);
    await live.edgeReport({ edge: 'b', services: [line('web', 0)] });
    expect((await live.drainAtEdges(['web-1'])).get('web-1')?.drained).toBe(true);
  });

  it("puts a metric's and an activation's time on the reader's clock", async () => {
    const live = new LoadReports(store.driver);
    const before = Date.now();
    const pushed = await live.metric('worker', 'queue_depth', 7);
    await live.activation('web', 'edge-1', 1);
    await store.driver.query(`UPDATE observed_metrics SET received_at = received_at - interval '60 seconds'`);
    await store.driver.query(`UPDATE pending_activations SET received_at = received_at - interval '60 seconds'`);
    const metric = (await live.read()).externalMetric(['worker'], 'queue_depth');
    const [activation] = await live.takeActivations();
    const after = Date.now();
    // PGlite runs on this machine's clock; on a server the ages are what crosses over, not the times.
    expect(pushed.at).toBeGreaterThanOrEqual(before - 5);
    expect(metric?.at).toBeGreaterThanOrEqual(before - 60_000 - 5);
    expect(metric?.at).toBeLessThanOrEqual(after - 60_000 + 5);
    expect(activation?.at).toBeGreaterThanOrEqual(before - 60_000 - 5);
    expect(activation?.at).toBeLessThanOrEqual(after - 60_000 + 5);
  });
});
