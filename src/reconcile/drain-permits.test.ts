import { expect, test } from 'vitest';
import { drainPermits } from './drain-permits.js';
import type { FleetHostRow, FleetInstanceRow } from './fleet-rows.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number): Date => new Date(t0.getTime() + s * 1000);
const host = (id: string, drain: FleetHostRow['drain']): FleetHostRow => ({
  id, name: id, region: 'default', memory: 2 ** 32, cpu: 4000, labels: {}, status: 'active', cordoned: drain !== null, drain, enrolledAt: t0,
});
const instance = (id: string, service: string, placedAt: Date, hostId = 'h1'): FleetInstanceRow => ({
  id, service, host: hostId, release: 1, port: null, replica: 0, placedAt, stopRequested: false, resources: { memory: 1, cpu: 1 }, ports: [], placement: { labels: {} },
});

const live = [instance('web-a', 'web', at(1)), instance('web-b', 'web', at(2)), instance('api-a', 'api', at(3)), instance('other', 'web', at(0), 'h2')];

test('the first maxParallel instances of a draining host, oldest first, round-robin across services', () => {
  const drain = { deadline: at(3600).toISOString(), maxParallel: 2 };
  expect([...drainPermits([host('h1', drain), host('h2', null)], live, [], t0)]).toEqual(['web-a', 'api-a']);
  // a permit is kept until its instance is gone; then the next one gets it
  expect([...drainPermits([host('h1', drain)], live.slice(1), [], t0)]).toEqual(['web-b', 'api-a']);
});

test('past the deadline every instance may leave; an instance pinned by its volume never may', () => {
  const drain = { deadline: at(60).toISOString(), maxParallel: 1 };
  const volumes = [{ id: 'vol', service: 'api', host: 'h1' }];
  expect([...drainPermits([host('h1', drain)], live, volumes, at(30))]).toEqual(['web-a']);
  expect([...drainPermits([host('h1', drain)], live, volumes, at(60))]).toEqual(['web-a', 'web-b']);
});
