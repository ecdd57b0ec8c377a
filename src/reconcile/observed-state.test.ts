// The API's store of heartbeats is the loops' observed state as it is: checked by type (lint)
// and by reading a recorded heartbeat through the fleet view.
import { expect, expectTypeOf, test } from 'vitest';
import { ObservedFleet } from '../api/observed-fleet.js';
import { EventStore } from '../store/event-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { viewFleet } from './fleet-view.js';
import type { ObservedState } from './observed-state.js';
import { ObservedTables } from './observed-tables.js';

test('ObservedFleet implements ObservedState', async () => {
  expectTypeOf<ObservedFleet>().toExtend<ObservedState>();
  const store = await EventStore.open(await openPgliteDriver());
  try {
    const at = new Date('2026-01-01T00:00:00Z');
    const fleet = new ObservedFleet(store.driver, () => at);
    const woken: string[] = [];
    const observed: ObservedState = fleet;
    observed.watch?.(({ hostId }) => woken.push(hostId));
    await fleet.record('h1', {
      usage: { memory: { total: 2 ** 30, used: 2 ** 29 }, cpu: { cores: 2, millicores: 300 } },
      instances: [{ id: 'web-3-0', state: 'ready', restarts: 0, since: at.getTime() - 5_000, adopted: false }],
      agent: { version: 'test', memoryEnforcement: 'none' },
    });
    expect(woken).toEqual(['h1']);
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
    const heard: string[] = [];
    tables.watch?.(({ hostId }) => heard.push(hostId));
    await fleet.record('h2', {
      usage: { memory: { total: 2 ** 30, used: 0 }, cpu: { cores: 2, millicores: 0 } },
      instances: [],
      agent: { version: 'test', memoryEnforcement: 'none' },
    });
    await tables.refresh();
    expect(heard).toEqual(['h2']);
    expect(tables.host('h2')).toEqual({ heartbeatAt: at, instances: [] });
  } finally {
    await store.close();
  }
});
