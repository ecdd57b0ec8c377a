// The fleet builder: projection rows and agents' reports to the scheduler's Fleet.
import { describe, expect, test } from 'vitest';
import { place } from '../scheduler/index.js';
import { buildFleet, hostState } from './build-fleet.js';
import type { FleetHostRow, FleetInstanceRow, FleetRows } from './fleet-rows.js';
import type { ObservedHost, ObservedState } from './observed-state.js';

const Mi = 2 ** 20;
const at = new Date('2026-01-01T00:00:00Z');

const host = (id: string, o: Partial<FleetHostRow> = {}): FleetHostRow => ({
  id,
  name: `${id}.example`,
  region: 'eu',
  memory: 1024 * Mi,
  cpu: 2000,
  labels: { zone: 'a' },
  status: 'active',
  cordoned: false,
  drain: null,
  enrolledAt: at,
  ...o,
});

const instance = (id: string, hostId: string, o: Partial<FleetInstanceRow> = {}): FleetInstanceRow => ({
  id,
  service: 'web',
  host: hostId,
  release: 1,
  port: null,
  replica: 0,
  placedAt: at,
  stopRequested: false,
  resources: { memory: 256 * Mi, cpu: 250 },
  ports: [],
  placement: { labels: {} },
  ...o,
});

const observed = (hosts: Record<string, ObservedHost>): ObservedState => ({ host: (id) => hosts[id] });
const nothingReported = observed({});

describe('buildFleet', () => {
  test('maps host lifecycle to scheduler states, lost and draining before cordoned', () => {
    expect(hostState({ status: 'active', cordoned: false, drain: null })).toBe('schedulable');
    expect(hostState({ status: 'active', cordoned: true, drain: null })).toBe('cordoned');
    expect(hostState({ status: 'active', cordoned: true, drain: { deadline: at.toISOString(), maxParallel: 1 } })).toBe('draining');
    expect(hostState({ status: 'lost', cordoned: true, drain: { deadline: at.toISOString(), maxParallel: 1 } })).toBe('lost');
    expect(hostState({ status: 'decommissioned', cordoned: true, drain: null })).toBe('decommissioned');
  });

  test('hosts carry what berth may place, cores from millicores, and the safety buffer', () => {
    const rows: FleetRows = { hosts: [host('h1', { cpu: 1500 })], instances: [], volumes: [] };
    const fleet = buildFleet(rows, nothingReported, { safetyBuffer: 64 * Mi, cpuOvercommitRatio: 2 });
    expect(fleet.hosts).toEqual([
      { id: 'h1', name: 'h1.example', region: 'eu', labels: { zone: 'a' }, state: 'schedulable', memory: { physical: 1024 * Mi, reserved: 0, safetyBuffer: 64 * Mi }, cores: 1.5 },
    ]);
    expect(fleet.clusters).toEqual([{ name: 'default', cpuOvercommitRatio: 2 }]);
  });

  test('instances asked to stop hold their room only while their agent still runs them', () => {
    const rows: FleetRows = {
      hosts: [host('h1'), host('h2')],
      instances: [
        instance('live', 'h1'),
        instance('stopping', 'h1', { stopRequested: true }),
        instance('stopped', 'h1', { stopRequested: true }),
        instance('unreported', 'h2', { stopRequested: true }),
        // reported by a host it is not placed on: that report is not about this placement
        instance('moved', 'h2', { stopRequested: true }),
      ],
      volumes: [],
    };
    const reports = observed({
      h1: {
        heartbeatAt: at,
        instances: [
          { id: 'stopping', state: 'ready', since: 0 },
          { id: 'stopped', state: 'stopped', since: 0 },
          { id: 'moved', state: 'ready', since: 0 },
        ],
      },
    });
    expect(buildFleet(rows, reports).instances.map((i) => i.id)).toEqual(['live', 'stopping']);
  });

  test('fixed ports, volumes and placement constraints come along', () => {
    const rows: FleetRows = {
      hosts: [host('h1'), host('h2')],
      instances: [
        instance('dns-1', 'h1', { service: 'dns', port: 53, ports: [53, 9153], placement: { region: 'eu', labels: { disk: 'ssd' } } }),
        instance('db-1', 'h2', { service: 'db' }),
      ],
      volumes: [
        { id: 'vol-db', service: 'db', host: 'h2' },
        { id: 'vol-spare', service: 'cache', host: 'h1' },
      ],
    };
    const fleet = buildFleet(rows, nothingReported);
    expect(fleet.instances).toEqual([
      { id: 'dns-1', service: 'dns', replica: 0, host: 'h1', resources: { memory: 256 * Mi, cpu: 250 }, ports: [53, 9153], placement: { region: 'eu', labels: { disk: 'ssd' } } },
      { id: 'db-1', service: 'db', replica: 0, host: 'h2', resources: { memory: 256 * Mi, cpu: 250 }, volume: 'vol-db', placement: { labels: {} } },
    ]);
    expect(fleet.volumes).toEqual([
      { name: 'vol-db', host: 'h2' },
      { name: 'vol-spare', host: 'h1' },
    ]);
  });

  test('the scheduler sees the room the instances take', () => {
    const rows: FleetRows = {
      hosts: [host('full'), host('cordoned', { cordoned: true }), host('free', { memory: 512 * Mi })],
      instances: [instance('a', 'full', { resources: { memory: 900 * Mi, cpu: 100 } })],
      volumes: [],
    };
    const fleet = buildFleet(rows, nothingReported);
    expect(place(fleet, { service: 'api', replica: 0, resources: { memory: 200 * Mi, cpu: 100 } })).toEqual({ ok: true, host: 'free' });
    const nowhere = place(fleet, { service: 'api', replica: 0, resources: { memory: 600 * Mi, cpu: 100 } });
    expect(nowhere.ok).toBe(false);
    expect(nowhere.ok ? [] : nowhere.reasons.map((r) => r.checker)).toEqual(['schedulable', 'memory']);
  });
});
