// The loop runner on PGlite (always the leader): it reconciles on its own when events and
// reports arrive, and stops cleanly on abort.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startControlLoops, type ControlLoops } from './control-loops.js';
import { openTestPlatform, type TestPlatform } from './test-platform.fixture.js';

let p: TestPlatform;
let stop: AbortController;
let loops: ControlLoops;

beforeEach(async () => {
  p = await openTestPlatform();
  stop = new AbortController();
});
afterEach(async () => {
  stop.abort();
  await loops.stopped;
  await p.close();
});

async function until<T>(what: string, read: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

test('places, scales and reports status on its own, from events and agent reports', async () => {
  await p.enroll('h1');
  await p.enroll('h2');
  loops = startControlLoops({ store: p.store, observed: p.observed, signal: stop.signal, clock: () => new Date(), resyncIntervalMs: 60_000 });
  await until('leadership', () => loops.isLeader(), Boolean);

  await p.createService('web', { run: 'node server.js', replicas: 1 });
  await until('one instance', () => p.live('web'), (l) => l.length === 1);
  await p.service('web', { type: 'SetReplicas', replicas: 2 });
  const live = await until('two instances', () => p.live('web'), (l) => l.length === 2);
  expect(new Set(live.map((i) => i.host_id)).size).toBe(2);

  // agents report every 50 ms; their reports (through watch) move a rollout along
  const agents = setInterval(() => {
    void p.live().then((placed) => {
      for (const host of ['h1', 'h2']) {
        const mine = placed.filter((x) => x.host_id === host).map((x) => ({ id: x.id, state: 'ready' as const, since: Date.parse(x.placed_at) }));
        p.observed.heartbeat(host, new Date(), mine);
      }
    });
  }, 50);
  try {
    await p.deploy('web', { run: 'node server.js', replicas: 2, deploy: { minHealthy: '0s' } });
    await until('release 2 everywhere', () => p.live('web'), (l) => l.length === 2 && l.every((x) => x.release === 2));
    await until('the rollout completed', () => p.store.readStream('service-web'), (s) => s.events.some((e) => e.type === 'RolloutCompleted' && e.data.release === 2));
  } finally {
    clearInterval(agents);
  }
  expect(loops.status.service('web')).toMatchObject({ desired: 2, release: 2 });
  expect(loops.status.host('h1')).toMatchObject({ status: 'active' });

  stop.abort();
  await loops.stopped;
  expect(loops.isLeader()).toBe(false);
  const before = await p.eventCount();
  await p.service('web', { type: 'SetReplicas', replicas: 1 });
  await sleep(200);
  expect(await p.eventCount()).toBe(before + 1);
});
