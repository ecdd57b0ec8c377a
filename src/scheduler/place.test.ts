import { describe, expect, it } from 'vitest';
import type { PlacedInstance } from './fleet.js';
import { fleet, GI, host } from './fleet.fixture.js';
import { place } from './place.js';
import type { PlacementRequest } from './request.js';

const used = (hostId: string, memory: number): PlacedInstance => ({ id: `${hostId}-x`, service: 'other', host: hostId, resources: { memory, cpu: 0 } });

const request = (extra: Partial<PlacementRequest> = {}): PlacementRequest => ({
  service: 'web',
  replica: 0,
  resources: { memory: GI, cpu: 100 },
  ...extra,
});

describe('place', () => {
  it('bin-packs: the tightest host in use that fits, never an empty one while one fits', () => {
    const f = fleet([host('roomy'), host('tight'), host('empty'), host('full')], [used('roomy', 8 * GI), used('tight', 14 * GI), used('full', 15.5 * GI)]);
    expect(place(f, request())).toEqual({ ok: true, host: 'tight' });
    expect(place(f, request({ resources: { memory: 4 * GI, cpu: 0 } }))).toEqual({ ok: true, host: 'roomy' });
    expect(place(f, request({ resources: { memory: 12 * GI, cpu: 0 } }))).toEqual({ ok: true, host: 'empty' });
  });

  it('spreads: the emptiest host', () => {
    const f = fleet([host('roomy'), host('tight'), host('empty')], [used('roomy', 8 * GI), used('tight', 14 * GI)], {
      clusters: [{ name: 'default', strategy: 'spread' }],
    });
    expect(place(f, request())).toEqual({ ok: true, host: 'empty' });
    expect(place(fleet(f.hosts, f.instances), request(), { strategy: 'spread' })).toEqual({ ok: true, host: 'empty' });
  });

  it('names the CPU asked and the CPU left in one unit', () => {
    const oneCore = fleet([host('a', { cores: 1 })], [], { clusters: [{ name: 'default', cpuOvercommitRatio: 1 }] });
    const reasons = (cpu: number): string[] => {
      const result = place(oneCore, request({ resources: { memory: GI, cpu } }));
      return result.ok ? [] : result.reasons.map((r) => r.message);
    };
    expect(reasons(1500)).toEqual(['1 host has less than 1500m CPU left under the overcommit ratio (largest free: 1000m)']);
    expect(reasons(2000)).toEqual(['1 host has less than 2 CPU left under the overcommit ratio (largest free: 1)']);
  });

  it('returns structured reasons, not an exception, when nothing fits', () => {
    const result = place(fleet([host('a'), host('b')], [used('a', 15 * GI), used('b', 12 * GI)]), request({ resources: { memory: 8 * GI, cpu: 0 } }));
    expect(result).toEqual({
      ok: false,
      reasons: [
        {
          checker: 'memory',
          resource: 'memory',
          hosts: 2,
          requested: 8 * GI,
          largestFree: 4 * GI,
          message: '2 hosts have less than 8Gi memory free (largest free: 4Gi)',
        },
      ],
    });
  });

  it('says there is no host in a region', () => {
    const result = place(fleet([host('a')]), request({ placement: { region: 'ap' } }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons.map((r) => r.message)).toEqual(['no host in region ap']);
  });

  it('names the states of unschedulable hosts', () => {
    const result = place(fleet([host('a', { state: 'cordoned' }), host('b', { state: 'draining' }), host('c', { state: 'lost' })]), request());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons[0]).toMatchObject({ checker: 'schedulable', hosts: 3, states: { cordoned: 1, draining: 1, lost: 1 } });
  });

  it('follows a volume to its host, even when a better host exists', () => {
    const f = fleet([host('a'), host('b')], [used('b', 14 * GI)], { volumes: [{ name: 'db-0', host: 'a' }] });
    expect(place(f, request({ volume: { name: 'db-0' } }))).toEqual({ ok: true, host: 'a' });
    expect(place(f, request({ volume: { name: 'fresh' } }))).toEqual({ ok: true, host: 'b' });
    const cordoned = fleet([host('a', { state: 'cordoned' }), host('b')], [], { volumes: [{ name: 'db-0', host: 'a' }] });
    const result = place(cordoned, request({ volume: { name: 'db-0' } }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons.map((r) => r.checker)).toEqual(['schedulable', 'volume']);
  });

  it('honours labels, ports and CPU', () => {
    const f = fleet([host('hdd', { labels: { disk: 'hdd' } }), host('ssd', { labels: { disk: 'ssd' }, ports: [9100] }), host('ssd2', { labels: { disk: 'ssd' }, cores: 1 })]);
    expect(place(f, request({ placement: { labels: { disk: 'ssd' } } }))).toMatchObject({ ok: true });
    expect(place(f, request({ placement: { labels: { disk: 'ssd' } }, ports: [9100] }))).toEqual({ ok: true, host: 'ssd2' });
    const result = place(f, request({ placement: { labels: { disk: 'ssd' } }, ports: [9100], resources: { memory: GI, cpu: 5000 } }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons.map((r) => r.checker)).toEqual(['labels', 'cpu', 'ports']);
  });

  it('replays: the same seed gives the same host among equals', () => {
    const hosts = Array.from({ length: 50 }, (_, i) => host(`h${i}`));
    for (const seed of [1, 2, 3, 'x']) expect(place(fleet(hosts), request(), { seed })).toEqual(place(fleet(hosts), request(), { seed }));
    const chosen = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => (place(fleet(hosts), request(), { seed }) as { host: string }).host));
    expect(chosen.size).toBeGreaterThan(1);
  });
});
