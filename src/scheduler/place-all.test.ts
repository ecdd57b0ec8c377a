import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fleet, GI, host as plainHost } from './fleet.fixture.js';
import { allocatableMemory, type Host } from './fleet.js';
import { placeAll } from './place-all.js';
import type { PlacementRequest } from './request.js';

// 1 GiB reserved and 1 GiB of safety buffer, so allocatable memory differs from physical.
const host = (id: string, extra: Partial<Host> = {}): Host => plainHost(id, { memory: { physical: 16 * GI, reserved: GI, safetyBuffer: GI }, ...extra });

const replicas = (service: string, n: number, memory: number, extra: Partial<PlacementRequest> = {}): PlacementRequest[] =>
  Array.from({ length: n }, (_, replica) => ({ service, replica, resources: { memory, cpu: 100 }, ...extra }));

const hostsOf = (result: ReturnType<typeof placeAll>, service: string): string[] =>
  result.placements.filter((p) => p.request.service === service).map((p) => p.host);

describe('placeAll', () => {
  it('counts instances placed earlier in the same batch', () => {
    const result = placeAll(fleet([host('a'), host('b')]), [...replicas('x', 1, 6 * GI), ...replicas('y', 1, 6 * GI), ...replicas('z', 1, 6 * GI)]);
    const perHost = new Map<string, number>();
    for (const p of result.placements) perHost.set(p.host, (perHost.get(p.host) ?? 0) + 1);
    expect([...perHost.values()].sort()).toEqual([1, 2]);
    expect(result.unplaceable).toEqual([]);
  });

  it('spreads replicas of a service: no host takes a second while another feasible host has none', () => {
    const result = placeAll(fleet([host('a'), host('b'), host('c')]), replicas('web', 7, GI));
    const counts = new Map<string, number>();
    for (const h of hostsOf(result, 'web')) counts.set(h, (counts.get(h) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([2, 2, 3]);
  });

  it('raises the spread level past full hosts instead of giving up', () => {
    // a has room for one 4Gi replica only; b and c take the rest, evenly
    const f = fleet([host('a'), host('b'), host('c')], [{ id: 'i', service: 'other', host: 'a', resources: { memory: 9 * GI, cpu: 0 } }]);
    const result = placeAll(f, replicas('web', 5, 4 * GI));
    expect(result.unplaceable).toEqual([]);
    const counts = new Map<string, number>();
    for (const h of hostsOf(result, 'web')) counts.set(h, (counts.get(h) ?? 0) + 1);
    expect(counts.get('a')).toBe(1);
    expect(counts.get('b')).toBe(2);
    expect(counts.get('c')).toBe(2);
  });

  it('places a new volume where its first instance lands, and sends later users of it there', () => {
    const requests: PlacementRequest[] = [
      { service: 'db', replica: 0, resources: { memory: 8 * GI, cpu: 0 }, volume: { name: 'data' } },
      { service: 'backup', replica: 0, resources: { memory: GI, cpu: 0 }, volume: { name: 'data' } },
    ];
    const result = placeAll(fleet([host('a'), host('b'), host('c')]), requests, { order: 'as-given' });
    expect(result.placements).toHaveLength(2);
    expect(result.placements[0]!.host).toBe(result.placements[1]!.host);
  });

  it('reports every replica that does not fit, with reasons', () => {
    const result = placeAll(fleet([host('a')]), replicas('big', 3, 20 * GI));
    expect(result.placements).toEqual([]);
    expect(result.unplaceable).toHaveLength(3);
    for (const u of result.unplaceable) expect(u.reasons[0]).toMatchObject({ checker: 'memory', requested: 20 * GI, largestFree: 14 * GI });
  });

  it('keeps the caller order with order: as-given, and is replayable by seed', () => {
    const hosts = Array.from({ length: 20 }, (_, i) => host(`h${i}`));
    const requests = [...replicas('s', 3, GI), ...replicas('b', 2, 8 * GI)];
    const asGiven = placeAll(fleet(hosts), requests, { order: 'as-given' });
    expect(asGiven.placements.map((p) => p.request)).toEqual(requests);
    const packed = placeAll(fleet(hosts), requests, { seed: 5 });
    expect(packed.placements.map((p) => p.request.service)).toEqual(['s', 's', 's', 'b', 'b']); // wider service first
    expect(placeAll(fleet(hosts), requests, { seed: 5 })).toEqual(packed);
  });

  it('never oversubscribes memory or CPU, and accounts for every request (property)', () => {
    const hostArb = fc.record({
      gi: fc.constantFrom(4, 16, 64),
      cores: fc.integer({ min: 1, max: 16 }),
      state: fc.constantFrom('schedulable', 'schedulable', 'schedulable', 'cordoned', 'draining', 'lost'),
      zone: fc.constantFrom('a', 'b', 'c'),
      region: fc.constantFrom('eu', 'eu', 'us'),
    });
    const serviceArb = fc.record({
      replicas: fc.integer({ min: 1, max: 12 }),
      mib: fc.integer({ min: 1, max: 8 * 1024 }),
      cpu: fc.integer({ min: 0, max: 8000 }),
      region: fc.constantFrom(undefined, 'eu', 'us', 'ap'),
      port: fc.constantFrom(undefined, 9100),
    });
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 1, maxLength: 25 }), fc.array(serviceArb, { minLength: 1, maxLength: 12 }), fc.integer(), (hs, ss, seed) => {
        const hosts = hs.map((h, i) =>
          host(`h${i}`, { memory: { physical: h.gi * GI, reserved: GI / 2, safetyBuffer: GI / 4 }, cores: h.cores, state: h.state as Host['state'], region: h.region, labels: { zone: h.zone } }),
        );
        const requests = ss.flatMap((s, i) =>
          replicas(`svc${i}`, s.replicas, s.mib * 2 ** 20, {
            resources: { memory: s.mib * 2 ** 20, cpu: s.cpu },
            ...(s.region === undefined ? {} : { placement: { region: s.region } }),
            ...(s.port === undefined ? {} : { ports: [s.port] }),
          }),
        );
        const result = placeAll(fleet(hosts), requests, { seed });
        expect(result.placements.length + result.unplaceable.length).toBe(requests.length);
        const byId = new Map(hosts.map((h) => [h.id, h]));
        const mem = new Map<string, number>();
        const cpu = new Map<string, number>();
        const ports = new Set<string>();
        for (const { request, host: id } of result.placements) {
          const h = byId.get(id)!;
          expect(h.state).toBe('schedulable');
          if (request.placement?.region !== undefined) expect(h.region).toBe(request.placement.region);
          mem.set(id, (mem.get(id) ?? 0) + request.resources.memory);
          cpu.set(id, (cpu.get(id) ?? 0) + request.resources.cpu);
          for (const p of request.ports ?? []) {
            expect(ports.has(`${id}:${p}`)).toBe(false);
            ports.add(`${id}:${p}`);
          }
        }
        for (const [id, m] of mem) expect(m).toBeLessThanOrEqual(allocatableMemory(byId.get(id)!.memory));
        for (const [id, c] of cpu) expect(c).toBeLessThanOrEqual(byId.get(id)!.cores * 4000);
        for (const u of result.unplaceable) expect(u.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });
});
