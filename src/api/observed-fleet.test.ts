// What a replica's periodic read of the heartbeat tables takes: the hosts whose row a transaction
// wrote since the previous read, nothing when no heartbeat came. PGlite: one connection, so the
// counts are exact; a transaction held open across reads is observed-fleet.postgres.test.ts.
import { expect, test } from 'vitest';
import { migrate, migrations } from '../store/migrations.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { ObservedFleet, type Heartbeat, type ObservedReport } from './observed-fleet.js';

const heartbeat = (millicores: number, since: number): Heartbeat => ({
  usage: { memory: { total: 2 ** 30, used: 2 ** 29 }, cpu: { cores: 2, millicores } },
  instances: [{ id: `web-${millicores}`, state: 'ready', port: 40_001, restarts: 0, since, adopted: false }],
  agent: { version: 'test', memoryEnforcement: 'none' },
});

test('ObservedFleet reads only the hosts written since its previous read, and nothing when no heartbeat came', async () => {
  const driver = await openPgliteDriver();
  try {
    // a host reported before migration 6: the migration gives its row a transaction, which the first read takes
    await migrate(driver, migrations.filter((m) => m.version < 6));
    await driver.query(`INSERT INTO observed_hosts (host_id, heartbeat_at, agent, usage) VALUES ('h0', now(), '{"version":"old"}', '{}')`);
    expect(await migrate(driver, migrations.filter((m) => m.version <= 6))).toEqual([6]);

    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => new Date(now);
    const [a, b] = [new ObservedFleet(driver, { clock }), new ObservedFleet(driver, { clock })];
    const heard: ObservedReport[] = [];
    b.watch((r) => heard.push(r));

    expect(await b.readTables()).toBe(1);
    expect(b.host('h0')?.agent.version).toBe('old');
    expect(await b.readTables()).toBe(0);
    await a.record('h1', heartbeat(100, now));
    await a.record('h2', heartbeat(100, now));
    expect(await b.readTables()).toBe(2);
    expect(await b.readTables()).toBe(0);
    expect(await b.readTables()).toBe(0);

    // an update moves the row as an insert does
    now += 1_000;
    await a.record('h1', heartbeat(200, now));
    expect(await b.readTables()).toBe(1);
    expect(b.host('h1')?.usage.cpu.millicores).toBe(200);
    expect(await b.readTables()).toBe(0);

    // an older report of h1, refused by the upsert, writes nothing to read
    now -= 500;
    await a.record('h1', heartbeat(150, now));
    now += 500;
    expect(await b.readTables()).toBe(0);
    expect(b.host('h1')?.usage.cpu.millicores).toBe(200);
    expect(heard.map((r) => r.hostId)).toEqual(['h0', 'h1', 'h2', 'h1']);

    // a replica from before migration 6 (a rolling upgrade) updates the row without naming tx_id:
    // the trigger stamps it, so this replica still reads the heartbeat
    await driver.query(`UPDATE observed_hosts SET heartbeat_at = now(), agent = '{"version":"old-2"}' WHERE host_id = 'h0'`);
    expect(await b.readTables()).toBe(1);
    expect(b.host('h0')?.agent.version).toBe('old-2');

    // a replica starting now takes every host at once
    const c = new ObservedFleet(driver, { clock });
    expect(await c.readTables()).toBe(3);
    expect(c.host('h1')?.usage.cpu.millicores).toBe(200);
  } finally {
    await driver.close();
  }
});
