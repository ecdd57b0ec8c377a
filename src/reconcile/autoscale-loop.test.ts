// The autoscale loop on PGlite with a clock the test moves one second per tick, edge reports fed
// by the test, and the service reconciler placing what the autoscaler asks for (fake agents
// report every instance ready at once).
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { seededRandom } from '../core/random.js';
import type { AutoscaleDecided } from '../domain/events.js';
import { activateService } from './activate-service.js';
import { AutoscaleLoop, type AutoscaleEvaluation } from './autoscale-loop.js';
import { LoadReports } from './load-reports.js';
import { openTestPlatform, type RawSpec, type TestPlatform } from './test-platform.fixture.js';

let p: TestPlatform;
let loads: LoadReports;
let loop: AutoscaleLoop;

beforeEach(async () => {
  p = await openTestPlatform();
  loads = new LoadReports(p.store.driver, { clock: () => p.now() });
  loop = new AutoscaleLoop({ store: p.store, observed: p.observed, loads, clock: () => p.now() });
  await p.enroll('h1', { memory: '64Gi', cpu: 64 });
});
afterEach(() => p.close());

const web = (scale: Record<string, unknown>): RawSpec => ({ run: 'node server.js', resources: { memory: '64Mi' }, scale });

/** What one edge reports for `web` this second. */
const report = (concurrency: number, service = 'web'): Promise<void> =>
  loads.edgeReport({ edge: 'edge-1', services: [{ service, concurrency, rps: concurrency * 10, queued: 0 }] });

async function decisions(service = 'web'): Promise<AutoscaleDecided['data'][]> {
  const { events } = await p.store.readStream(`service-${service}`);
  return events.filter((e): e is typeof e & AutoscaleDecided => e.type === 'AutoscaleDecided').map((e) => e.data);
}

async function desired(service = 'web'): Promise<number> {
  const [row] = await p.store.driver.query<{ replicas: number }>('SELECT replicas FROM services WHERE id = $1', [service]);
  return row!.replicas;
}

/** One second: the clock moves, the edge reports, the loop ticks, the reconciler places what changed. */
async function second(concurrency: number | undefined): Promise<AutoscaleEvaluation | undefined> {
  p.advance(1_000);
  if (concurrency !== undefined) await report(concurrency);
  const before = await desired();
  const [evaluation] = await loop.tick();
  if ((await desired()) !== before) await p.settle();
  return evaluation;
}

async function seconds(n: number, load: (i: number) => number | undefined): Promise<void> {
  for (let i = 0; i < n; i++) await second(load(i));
}

describe('autoscale loop', () => {
  test('a 10× load step scales out within the panic window, and back in after stabilization', async () => {
    await p.createService('web', web({ min: 1, max: 20, target: { concurrency: 10 } }));
    await p.settle();
    await seconds(60, () => 10);
    expect(await decisions()).toEqual([]);

    let after = 0;
    while ((await desired()) < 10) {
      await second(100);
      after++;
      expect(after, 'seconds after the step').toBeLessThanOrEqual(6);
    }
    expect((await p.live('web')).length).toBe(10);
    // The 6 s mean climbs with each second of the step, and each tick asks for what it needs.
    const ups = await decisions();
    expect(ups[0]).toMatchObject({ from: 1 });
    expect(ups[0]!.reason).toMatch(/^concurrency \S+ over 1 instance at target 10 → \d+ \(panic: demand \S+× ready capacity\)$/);
    expect(ups[0]!.signals).toMatchObject({ value: 100, demand: 100, target: 10, replicas: 1, ready: 1 });
    expect(ups.at(-1)).toMatchObject({ to: 10 });

    await seconds(120, () => 100);
    expect(await desired()).toBe(10);
    // Load drops back: no scale-in while the 5-minute stabilization remembers the peak.
    await seconds(240, () => 10);
    expect(await desired()).toBe(10);
    await seconds(120, () => 10);
    expect(await desired()).toBeLessThan(10);
    await seconds(300, () => 10);
    expect(await desired()).toBe(1);
    const all = await decisions();
    // Every event is a change, each from the count the one before reached.
    for (const [i, d] of all.entries()) {
      expect(d.to).not.toBe(d.from);
      if (i > 0) expect(d.from).toBe(all[i - 1]!.to);
      expect(d.reason).toMatch(/→/);
    }
  }, 120_000);

  test("the spec's stabilization window replaces the 5-minute one", async () => {
    await p.createService('web', web({ min: 1, max: 20, target: { concurrency: 10 }, stabilization: '10s' }));
    await p.settle();
    await seconds(10, () => 10);
    await seconds(10, () => 100);
    expect(await desired()).toBe(10);
    // Load gone: the scale-down cooldown (60 s after the last scale-up) and the panic hold still
    // apply; then 10 s of remembered recommendations, not 5 minutes, bound the scale-in.
    let quiet = 0;
    while ((await desired()) > 1) {
      await second(0);
      quiet++;
      expect(quiet, 'seconds after the load stopped').toBeLessThan(90);
    }
    expect(quiet).toBeGreaterThanOrEqual(45);
  }, 60_000);

  test('noisy flat load appends no event', async () => {
    await p.createService('web', web({ min: 1, max: 20, target: { concurrency: 10 } }));
    await p.service('web', { type: 'SetScale', scale: { min: 5, max: 20, target: { type: 'concurrency', value: 10 } } });
    await p.settle();
    const random = seededRandom('noisy-flat');
    await seconds(600, () => 50 * (0.9 + random.next() * 0.2));
    expect(await decisions(), `seed ${String(random.seed)}`).toEqual([]);
    expect(await desired()).toBe(5);
  }, 120_000);

  test('a burst raises the floor, with a reason that says until when', async () => {
    await p.createService('web', web({ min: 1, max: 20, target: { concurrency: 10 } }));
    await seconds(5, () => 5);
    const until = new Date(p.now().getTime() + 30 * 60_000);
    await p.service('web', { type: 'StartBurst', replicas: 4, until, now: p.now() });
    await second(5);
    expect(await desired()).toBe(4);
    const [burst] = await decisions();
    expect(burst).toMatchObject({ from: 1, to: 4 });
    expect(burst!.reason).toContain(`burst floor 4 until ${until.toISOString()}`);
  });

  test('holds without a signal: no edge report is not "no load"', async () => {
    await p.createService('web', web({ min: 1, max: 20, target: { concurrency: 10 } }));
    await p.service('web', { type: 'SetScale', scale: { min: 3, max: 20, target: { type: 'concurrency', value: 10 } } });
    const evaluation = await second(undefined);
    expect(evaluation?.waiting).toBe('no edge has reported web in the last 5s');
    await seconds(400, () => undefined);
    expect(await decisions()).toEqual([]);
  }, 60_000);

  test('min 0: idle goes to zero, an activation brings one back at once and keeps it for idle', async () => {
    await p.createService('web', web({ min: 0, max: 5, target: { concurrency: 10 }, idle: '1m' }));
    await p.settle();
    expect(await desired()).toBe(0);
    // Traffic: from zero to what the demand asks for at once.
    await second(15);
    expect(await desired()).toBe(2);
    // Quiet: stabilization holds 2 for 5 minutes, then the idle period (1m, long passed) takes it to zero.
    let quiet = 0;
    while ((await desired()) > 0) {
      await second(0);
      quiet++;
      expect(quiet).toBeLessThan(400);
    }
    expect(quiet).toBeGreaterThanOrEqual(60);
    expect((await p.live('web')).length).toBe(0);
    expect((await decisions()).at(-1)!.reason).toContain('idle 1m: scale to zero');

    const result = await activateService(p.store, loads, 'web', { edge: 'edge-1', queued: 3, now: p.now() });
    expect(result).toEqual({ service: 'web', replicas: 1, activated: true });
    expect((await decisions()).at(-1)).toEqual({ from: 0, to: 1, reason: 'activation: 3 requests wait at edge edge-1 → 1', signals: { queued: 3, replicas: 0 } });
    expect(await activateService(p.store, loads, 'web', { edge: 'edge-2', queued: 1, now: p.now() })).toEqual({ service: 'web', replicas: 1, activated: false });
    await p.settle();
    expect((await p.live('web')).length).toBe(1);
    // The edge's next reports are empty (the held request was served): one instance stays for idle.
    await seconds(50, () => 0);
    expect(await desired()).toBe(1);
    await seconds(15, () => 0);
    expect(await desired()).toBe(0);
  }, 120_000);

  test('min 0 on rps: an open connection that carries no requests (a WebSocket) keeps the service up; idle counts from when it closes', async () => {
    await p.createService('web', web({ min: 0, max: 5, target: { rps: 10 }, idle: '1m' }));
    await p.settle();
    await activateService(p.store, loads, 'web', { edge: 'edge-1', queued: 1, now: p.now() });
    await p.settle();
    expect(await desired()).toBe(1);
    /** One second of an edge report: 0 rps, and `connections` pinned with nothing in flight. */
    const tick = async (connections: number): Promise<void> => {
      p.advance(1_000);
      await loads.edgeReport({ edge: 'edge-1', services: [{ service: 'web', concurrency: 0, rps: 0, queued: 0, inFlight: 0, connections }] });
      const before = await desired();
      await loop.tick();
      if ((await desired()) !== before) await p.settle();
    };
    for (let i = 0; i < 180; i++) await tick(1);
    expect(await desired()).toBe(1);
    for (let i = 0; i < 50; i++) await tick(0);
    expect(await desired()).toBe(1);
    for (let i = 0; i < 15; i++) await tick(0);
    expect(await desired()).toBe(0);
    expect((await decisions()).at(-1)!.reason).toContain('idle 1m: scale to zero');
  }, 120_000);

  test('an activation of a fixed service at zero says how to wake it', async () => {
    await p.createService('web', { run: 'node server.js', replicas: 0 });
    await expect(activateService(p.store, loads, 'web', { edge: 'edge-1', queued: 1, now: p.now() })).rejects.toThrow(
      /fixed replicas 0, so it stays at zero; run berth scale web 1/,
    );
  });

  test('a scale command racing a tick is not lost: the tick is refused and decides again', async () => {
    await p.createService('web', web({ min: 1, max: 20, target: { concurrency: 10 } }));
    await report(100);
    const tick = loop.tick();
    await p.service('web', { type: 'SetReplicas', replicas: 2 });
    await tick;
    expect(await desired()).toBe(2);
    expect((await second(100)) === undefined).toBe(true);
  });
});
