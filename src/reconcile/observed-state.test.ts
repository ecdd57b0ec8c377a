// The API's store of heartbeats is the loops' observed state as it is: checked by type (lint)
// and by reading a recorded heartbeat through the fleet view.
import { expect, expectTypeOf, test } from 'vitest';
import { ObservedFleet } from '../api/observed-fleet.js';
import { EventStore } from '../store/event-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { viewFleet } from './fleet-view.js';
import { instancesChanged, type HostReport, type ObservedInstance, type ObservedState } from './observed-state.js';
import { ObservedTables } from './observed-tables.js';

test('ObservedFleet implements ObservedState', async () => {
  expectTypeOf<ObservedFleet>().toExtend<ObservedState>();
  const store = await EventStore.open(await openPgliteDriver());
  try {
    const at = new Date('2026-01-01T00:00:00Z');
    const fleet = new ObservedFleet(store.driver, () => at);
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

    // another control plane reads the same report back from the tables, woken by this one's reports
    const tables = new ObservedTables(store.driver, { maxAgeMs: 0, wakeups: fleet });
    expect(tables.host('h1')).toBeUndefined();
    await tables.refresh();
    expect(tables.host('h1')).toEqual({ heartbeatAt: at, instances: [{ id: 'web-3-0', state: 'ready', since: at.getTime() - 5_000 }] });
    const heard: HostReport[] = [];
    tables.watch?.((r) => heard.push({ hostId: r.hostId, instancesChanged: r.instancesChanged }));
    await fleet.record('h2', {
      usage: { memory: { total: 2 ** 30, used: 0 }, cpu: { cores: 2, millicores: 0 } },
      instances: [],
      agent: { version: 'test', memoryEnforcement: 'none' },
    });
    await tables.refresh();
    expect(heard).toEqual([{ hostId: 'h2', instancesChanged: true }]);
    expect(tables.host('h2')).toEqual({ heartbeatAt: at, instances: [] });
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
