// The API's store of heartbeats is the loops' observed state as it is: checked by type (lint)
// and by reading a recorded heartbeat through the fleet view; a second ObservedFleet on the same
// database stands for another replica reading it from the tables.
import { expect, expectTypeOf, test } from 'vitest';
import { ObservedFleet, type ObservedReport } from '../api/observed-fleet.js';
import { EventStore } from '../store/event-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { viewFleet } from './fleet-view.js';
import { instancesChanged, type HostReport, type ObservedInstance, type ObservedState } from './observed-state.js';

test('ObservedFleet implements ObservedState', async () => {
  expectTypeOf<ObservedFleet>().toExtend<ObservedState>();
  const store = await EventStore.open(await openPgliteDriver());
  try {
    const at = new Date('2026-01-01T00:00:00Z');
    const fleet = new ObservedFleet(store.driver, { clock: () => at });
    const woken: HostReport[] = [];
    const observed: ObservedState = fleet;
    observed.watch?.(({ hostId, instancesChanged }) => woken.push({ hostId, instancesChanged }));
    const report = (millicores: number) => ({
      usage: { memory: { total: 2 ** 30, used: 2 ** 29 }, cpu: { cores: 2, millicores } },
      instances: [{ id: 'web-3-0', state: 'ready' as const, restarts: 0, since: at.getTime() - 5_000, adopted: false, cpuMillicores: millicores }],
      agent: { version: 'test', memoryEnforcement: 'none' as const },
    });
    await fleet.record('h1', report(300));
    // the same instances again, only the usage moved
    await fleet.record('h1', report(120));
    expect(woken).toEqual([{ hostId: 'h1', instancesChanged: true }, { hostId: 'h1', instancesChanged: false }]);
    expect(observed.host('h1')?.heartbeatAt).toEqual(at);
    const view = viewFleet(
      {
        hosts: [{ id: 'h1', name: 'h1', region: 'default', memory: 2 ** 30, cpu: 2000, labels: {}, status: 'active', cordoned: false, drain: null, enrolledAt: at }],
        instances: [
          {
            id: 'web-3-0', service: 'web', host: 'h1', release: 1, port: null, replica: 0, placedAt: at, stopRequested: false,
            resources: { memory: 2 ** 28, cpu: 250 }, ports: [], placement: { labels: {} },
          },
        ],
        volumes: [],
      },
      observed,
      at,
    );
    expect(view.observed.get('web-3-0')).toMatchObject({ state: 'ready', since: at.getTime() - 5_000 });

    // another control plane on the same database reads the same report back from the tables
    const other = new ObservedFleet(store.driver, { clock: () => at });
    expect(other.host('h1')).toBeUndefined();
    await other.readTables();
    expect(other.host('h1')).toEqual(fleet.host('h1'));
    const heard: HostReport[] = [];
    other.watch((r) => heard.push({ hostId: r.hostId, instancesChanged: r.instancesChanged }));
    await fleet.record('h2', {
      usage: { memory: { total: 2 ** 30, used: 0 }, cpu: { cores: 2, millicores: 0 } },
      instances: [],
      agent: { version: 'test', memoryEnforcement: 'none' },
    });
    await other.readTables();
    await other.readTables();
    expect(heard).toEqual([{ hostId: 'h2', instancesChanged: true }]);
    expect(other.host('h2')).toMatchObject({ heartbeatAt: at, instances: [] });
    // its own reports, read back, are nothing new to the control plane that took them
    await fleet.readTables();
    expect(woken).toHaveLength(3); // h1 twice, h2: what it took itself
  } finally {
    await store.close();
  }
});

test('instancesChanged: what the loops and the route table act on, not usage', () => {
  const web: ObservedInstance = { id: 'web-1-0', state: 'ready', since: 1_000, port: 40_001, cpuMillicores: 200 };
  const api: ObservedInstance = { id: 'api-1-0', state: 'starting', since: 2_000, port: 40_002 };
  expect(instancesChanged(undefined, [])).toBe(true); // a host's first report
  expect(instancesChanged([], [])).toBe(false);
  expect(instancesChanged([web, api], [{ ...web, cpuMillicores: 900 }, api])).toBe(false);
  expect(instancesChanged([web, api], [api, web])).toBe(false);
  expect(instancesChanged([web, api], [web, { ...api, state: 'ready' }])).toBe(true);
  expect(instancesChanged([web], [{ ...web, since: 3_000 }])).toBe(true); // restarted between two reports
  expect(instancesChanged([web], [{ ...web, port: 40_003 }])).toBe(true);
  expect(instancesChanged([web, api], [web])).toBe(true);
  expect(instancesChanged([web], [web, api])).toBe(true);
  expect(instancesChanged([web], [api])).toBe(true);
});

test('ObservedFleet: the freshest report of each host, whichever control plane took it, aged on the database clock', async () => {
  const store = await EventStore.open(await openPgliteDriver());
  try {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => new Date(now);
    const [a, b] = [new ObservedFleet(store.driver, { clock }), new ObservedFleet(store.driver, { clock })];
    const exited = { code: null, signal: 'SIGKILL', oom: false, at: now - 1_000 };
    const heartbeat = (state: 'starting' | 'ready', millicores: number) => ({
      usage: { memory: { total: 2 ** 30, used: 2 ** 29 }, cpu: { cores: 2, millicores } },
      instances: [
        { id: 'web-1-0', state, port: 40_001, pid: 77, restarts: 1, since: now, adopted: true, rssBytes: 2 ** 27, cpuMillicores: millicores },
        { id: 'web-1-1', state: 'exited' as const, restarts: 3, since: now - 1_000, adopted: false, lastExit: exited, message: 'killed' },
      ],
      agent: { version: 'test', assignmentVersion: '4.17', memoryEnforcement: 'cgroup-v2' as const },
    });
    const heardOnB: ObservedReport[] = [];
    b.watch((r) => heardOnB.push(r));

    await a.record('h1', heartbeat('starting', 100));
    const taken = a.host('h1');
    now += 3_000;
    await b.readTables();
    // all of the report, taken 3 s ago: on B's clock it is as old as the database says
    expect(b.host('h1')).toEqual(taken);
    expect(heardOnB.map((r) => r.instancesChanged)).toEqual([true]);

    // the host moves to B and reports readiness there; A learns it on its next read
    await b.record('h1', heartbeat('ready', 300));
    now += 500;
    await a.readTables();
    expect(a.host('h1')?.instances[0]).toMatchObject({ state: 'ready', cpuMillicores: 300 });
    expect(a.host('h1')?.heartbeatAt).toEqual(new Date(now - 500));
    // B's own report, read back, wakes no one there
    await b.readTables();
    expect(heardOnB.map((r) => r.instancesChanged)).toEqual([true, true]);

    // an older report never replaces a newer one: A's stale copy of another host stays behind B's
    await a.record('h2', heartbeat('ready', 10));
    now += 1_000;
    await b.record('h2', heartbeat('ready', 20));
    await a.readTables();
    expect(a.host('h2')?.usage.cpu.millicores).toBe(20);
    await b.readTables();
    expect(b.host('h2')?.usage.cpu.millicores).toBe(20);

    // two reports in flight at once, the older committing last (an agent retrying on another
    // replica): the tables keep the newer, and no replica takes the older from them
    now += 1_000;
    await b.record('h3', heartbeat('ready', 40));
    now -= 500;
    await a.record('h3', heartbeat('starting', 30));
    now += 500;
    const [row] = await store.driver.query<{ usage: { cpu: { millicores: number } } }>(`SELECT usage FROM observed_hosts WHERE host_id = 'h3'`);
    expect(row?.usage.cpu.millicores).toBe(40);
    const [instance] = await store.driver.query<{ state: string }>(`SELECT state FROM observed_instances WHERE id = 'web-1-0'`);
    expect(instance?.state).toBe('ready');
    await a.readTables();
    expect(a.host('h3')?.usage.cpu.millicores).toBe(40);
  } finally {
    await store.close();
  }
});
