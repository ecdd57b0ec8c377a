// Properties of the service plan over random fleets, placements, reports and rollouts: it only
// stops what is placed, never oversubscribes a host's memory, stays within maxSurge, keeps the
// availability floor it found, and never stops an instance of a draining host before the
// others cover the desired count.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { initialServiceState, type PlacedInstance, type ServiceState } from '../domain/service-state.js';
import { serviceSpecSchema, type ServiceSpec } from '../spec/service.js';
import type { FleetHostRow, FleetInstanceRow, FleetRows } from './fleet-rows.js';
import { viewFleet } from './fleet-view.js';
import type { InstanceState, ObservedHost, ObservedState } from './observed-state.js';
import { planService } from './plan-service.js';
import { rolloutLimits } from './rollout-limits.js';
import type { ServiceView } from './service-view.js';

const Mi = 2 ** 20;
const now = new Date('2026-01-01T01:00:00Z');
const STATES: InstanceState[] = ['ready', 'ready', 'ready', 'starting', 'unhealthy', 'restarting'];

const hostArb = fc.record({
  memory: fc.integer({ min: 256, max: 2048 }),
  status: fc.constantFrom<'active' | 'lost'>('active', 'active', 'active', 'active', 'lost'),
  cordoned: fc.boolean(),
  draining: fc.boolean(),
  maxParallel: fc.integer({ min: 1, max: 3 }),
  deadlinePassed: fc.boolean(),
});
const instanceArb = (hosts: number) =>
  fc.record({
    host: fc.integer({ min: 0, max: hosts - 1 }),
    release: fc.constantFrom(1, 2),
    state: fc.option(fc.constantFrom(...STATES), { nil: undefined }),
    readyFor: fc.integer({ min: 0, max: 120 }),
    age: fc.integer({ min: 0, max: 3000 }),
    memory: fc.constantFrom(64, 128, 256),
  });

const scenario = fc.integer({ min: 1, max: 6 }).chain((hostCount) =>
  fc.record({
    hosts: fc.array(hostArb, { minLength: hostCount, maxLength: hostCount }),
    mine: fc.array(instanceArb(hostCount), { maxLength: 8 }),
    others: fc.array(instanceArb(hostCount), { maxLength: 8 }),
    desired: fc.integer({ min: 0, max: 8 }),
    target: fc.constantFrom(1, 2),
    rolling: fc.boolean(),
    surge: fc.integer({ min: 0, max: 2 }),
    unavailable: fc.integer({ min: 0, max: 2 }),
    autoRevert: fc.boolean(),
  }),
);

test('the service plan keeps its promises', () => {
  const stats = { places: 0, stops: 0, drainStops: 0 };
  fc.assert(
    fc.property(scenario, (s) => {
      const deploy = { maxSurge: s.surge, maxUnavailable: s.surge === 0 && s.unavailable === 0 ? 1 : s.unavailable, minHealthy: '30s', healthyDeadline: '10m', autoRevert: s.autoRevert };
      const spec = (release: number): ServiceSpec => serviceSpecSchema.parse({ run: 'x', env: { R: String(release) }, resources: { memory: '128Mi', cpu: '100m' }, deploy });
      const hostRows: FleetHostRow[] = s.hosts.map((h, i) => ({
        id: `h${i}`,
        name: `h${i}`,
        region: 'default',
        memory: h.memory * Mi,
        cpu: 4000,
        labels: {},
        status: h.status,
        cordoned: h.cordoned || h.draining,
        drain: h.draining ? { deadline: new Date(now.getTime() + (h.deadlinePassed ? -1 : 1) * 600_000).toISOString(), maxParallel: h.maxParallel } : null,
        enrolledAt: new Date(0),
      }));
      const reports = new Map<string, { id: string; state: InstanceState; since: number }[]>();
      const rows: FleetInstanceRow[] = [];
      const instances: Record<string, PlacedInstance> = {};
      const placedAt = new Map<string, Date>();
      const add = (service: string, list: typeof s.mine): void =>
        list.forEach((x, n) => {
          const id = `${service}-i${n}`;
          const host = `h${x.host}`;
          const at = new Date(now.getTime() - x.age * 1000);
          rows.push({ id, service, host, release: x.release, port: null, replica: n, placedAt: at, stopRequested: false, resources: { memory: x.memory * Mi, cpu: 100 }, ports: [], placement: { labels: {} } });
          if (x.state !== undefined) reports.set(host, [...(reports.get(host) ?? []), { id, state: x.state, since: now.getTime() - x.readyFor * 1000 }]);
          if (service === 'web') {
            instances[id] = { host, release: x.release, replica: n };
            placedAt.set(id, at);
          }
        });
      add('web', s.mine);
      add('other', s.others);
      const observed: ObservedState = {
        host: (id): ObservedHost | undefined => ({ heartbeatAt: now, instances: reports.get(id) ?? [] }),
      };
      const fleetRows: FleetRows = { hosts: hostRows, instances: rows, volumes: [] };
      const fleet = viewFleet(fleetRows, observed, now);
      const state: ServiceState = {
        ...initialServiceState(),
        status: 'active',
        name: 'web',
        tenant: 'default',
        spec: spec(s.target),
        scaling: { mode: 'fixed', replicas: s.desired },
        releases: [1, 2],
        activeRelease: s.rolling ? (s.target === 2 ? 1 : null) : s.target,
        rollout: s.rolling ? { release: s.target, previous: s.target === 2 ? 1 : null } : null,
        instances,
      };
      const service: ServiceView = {
        id: 'web',
        version: 7,
        state,
        releaseSpecs: new Map([
          [1, spec(1)],
          [2, spec(2)],
        ]),
        placedAt,
        rolloutStartedAt: new Date(now.getTime() - 3_000_000),
      };

      const plan = planService(service, fleet, now);
      const stops = plan.commands.flatMap((c) => (c.type === 'RequestInstanceStop' ? [c.instance] : []));
      const places = plan.commands.flatMap((c) => (c.type === 'PlaceInstance' ? [c] : []));
      if (plan.commands.some((c) => c.type === 'RevertRollout')) {
        expect(stops).toEqual([]);
        expect(places).toEqual([]);
        return;
      }

      // only what is placed is stopped, once
      expect(new Set(stops).size).toBe(stops.length);
      for (const id of stops) expect(instances[id]).toBeDefined();

      // memory is a hard limit: the placements fit beside everything that runs
      for (const h of hostRows) {
        const used = rows.filter((r) => r.host === h.id).reduce((sum, r) => sum + r.resources.memory, 0);
        const added = places.filter((p) => p.host === h.id).length * 128 * Mi;
        if (added > 0) {
          expect(h.status === 'active' && !h.cordoned).toBe(true);
          expect(used + added).toBeLessThanOrEqual(h.memory * Mi);
        }
      }

      const hostOf = (id: string) => hostRows.find((h) => h.id === instances[id]?.host);
      const report = (id: string) => reports.get(instances[id]?.host ?? '')?.find((r) => r.id === id);
      const serving = (id: string): boolean => report(id)?.state === 'ready';
      const healthy = (id: string): boolean => serving(id) && now.getTime() - (report(id)?.since ?? now.getTime()) >= 30_000;
      const staying = Object.keys(instances).filter((id) => hostOf(id)?.status === 'active' && !fleet.drainPermits.has(id));
      const stopped = new Set(stops);
      const limits = rolloutLimits(serviceSpecSchema.parse({ run: 'x', deploy }).deploy, s.desired);

      // within maxSurge: staying instances plus placements never exceed desired + surge,
      // unless more were already there (then nothing is added)
      const keptStaying = staying.filter((id) => !stopped.has(id)).length;
      if (places.length > 0) expect(keptStaying + places.length).toBeLessThanOrEqual(s.desired + limits.surge);

      // the availability floor holds if it held before
      const floor = s.desired - limits.unavailable;
      const servingBefore = staying.filter(serving).length;
      const servingAfter = staying.filter((id) => serving(id) && !stopped.has(id)).length;
      if (servingBefore >= floor) expect(servingAfter).toBeGreaterThanOrEqual(floor);

      // a serving instance leaves a draining host before its deadline only when the rest cover the count
      const drainStops = stops.filter((id) => {
        const h = hostOf(id);
        return h?.drain && h.status === 'active' && fleet.drainPermits.has(id) && serving(id) && Date.parse(h.drain.deadline) > now.getTime();
      });
      if (drainStops.length > 0 && plan.status.rollout?.failure === undefined) {
        const covering = staying.filter((x) => !stopped.has(x) && (instances[x]?.release === s.target ? healthy(x) : serving(x))).length;
        const leavingKept = Object.keys(instances).filter((x) => fleet.drainPermits.has(x) && hostOf(x)?.status === 'active' && serving(x) && !stopped.has(x)).length;
        expect(covering + leavingKept).toBeGreaterThanOrEqual(s.desired);
      }
      stats.places += Number(places.length > 0);
      stats.stops += Number(stops.length > 0);
      stats.drainStops += Number(drainStops.length > 0);
    }),
    // 1,000 runs: the drain branch comes up in a few percent of them, and 400 (a random seed each
    // time) fell short of the coverage check below about once in a few dozen runs
    { numRuns: 1_000 },
  );
  // the generator reaches every branch it is meant to check
  expect(stats.places).toBeGreaterThan(100);
  expect(stats.stops).toBeGreaterThan(100);
  expect(stats.drainStops).toBeGreaterThan(5);
});
