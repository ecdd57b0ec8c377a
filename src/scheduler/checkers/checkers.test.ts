import { describe, expect, it } from 'vitest';
import { RequestCompiler } from '../compiled-request.js';
import { GI, host as plainHost } from '../fleet.fixture.js';
import type { Fleet, Host } from '../fleet.js';
import { prepare } from '../pipeline.js';
import type { PlacementRequest } from '../request.js';
import { PlacementState } from '../state.js';
import { cpu } from './cpu.js';
import { labels } from './labels.js';
import { memory } from './memory.js';
import { placementScope } from './placement-scope.js';
import { ports } from './ports.js';
import { replicaSpread } from './replica-spread.js';
import { schedulable } from './schedulable.js';
import { volumeLocality } from './volume-locality.js';

const host = (id: string, extra: Partial<Host> = {}): Host =>
  plainHost(id, { name: `${id}-name`, memory: { physical: 16 * GI, reserved: GI, safetyBuffer: GI }, cores: 4, ...extra });

function setup(hosts: Host[], request: Partial<PlacementRequest> = {}, fleet: Partial<Fleet> = {}) {
  const state = new PlacementState({ clusters: [{ name: 'default' }], hosts, instances: [], ...fleet });
  const ask = prepare(
    new RequestCompiler(state).compile({ service: 'web', replica: 0, resources: { memory: GI, cpu: 500 }, ...request }),
  );
  return { state, ask, at: (id: string) => state.hostIds.get(id)! };
}

describe('schedulable', () => {
  it('passes only schedulable hosts and counts the others by state', () => {
    const { state, ask, at } = setup([host('a'), host('b', { state: 'cordoned' }), host('c', { state: 'lost' }), host('d', { state: 'cordoned' })]);
    expect(schedulable.feasible(at('a'), ask, state)).toBe(true);
    expect(schedulable.feasible(at('b'), ask, state)).toBe(false);
    const reason = schedulable.reason(ask, [at('b'), at('c'), at('d')], state);
    expect(reason).toMatchObject({ checker: 'schedulable', hosts: 3, states: { cordoned: 2, lost: 1 } });
    expect(reason?.message).toBe('3 hosts are not schedulable (2 cordoned, 1 lost)');
  });
});

describe('volumeLocality', () => {
  it('pins an instance to the host its volume lives on', () => {
    const { state, ask, at } = setup([host('a'), host('b')], { volume: { name: 'db-0' } }, { volumes: [{ name: 'db-0', host: 'b' }] });
    expect(volumeLocality.applies(ask)).toBe(true);
    expect(volumeLocality.feasible(at('b'), ask, state)).toBe(true);
    expect(volumeLocality.feasible(at('a'), ask, state)).toBe(false);
    expect(volumeLocality.reason(ask, [at('a')], state)?.message).toBe('volume db-0 lives on host b-name (schedulable); 1 host cannot mount it');
  });

  it('does not apply to a new volume, and names a volume host missing from the fleet', () => {
    expect(volumeLocality.applies(setup([host('a')], { volume: { name: 'new' } }).ask)).toBe(false);
    const { state, ask, at } = setup([host('a')], { volume: { name: 'db-0', host: 'gone' } });
    expect(volumeLocality.feasible(at('a'), ask, state)).toBe(false);
    expect(volumeLocality.reason(ask, [at('a')], state)?.message).toContain('host gone, which is not in the fleet');
  });
});

describe('placementScope', () => {
  it('filters hosts outside the region, and says when no host is in it', () => {
    const { state, ask, at } = setup([host('a'), host('b', { region: 'us' })], { placement: { region: 'us' } });
    expect(placementScope.feasible(at('b'), ask, state)).toBe(true);
    expect(placementScope.feasible(at('a'), ask, state)).toBe(false);
    expect(placementScope.reason(ask, [at('a')], state)?.message).toBe('1 host is outside region us');
    const none = setup([host('a')], { placement: { region: 'ap' } });
    expect(placementScope.feasible(none.at('a'), none.ask, none.state)).toBe(false);
    expect(placementScope.reason(none.ask, [none.at('a')], none.state)?.message).toBe('no host in region ap');
  });
});

describe('labels', () => {
  it('needs every label to match', () => {
    const { state, ask, at } = setup([host('a', { labels: { disk: 'ssd', zone: 'z' } }), host('b', { labels: { disk: 'hdd' } })], {
      placement: { labels: { disk: 'ssd' } },
    });
    expect(labels.feasible(at('a'), ask, state)).toBe(true);
    expect(labels.feasible(at('b'), ask, state)).toBe(false);
    expect(labels.reason(ask, [at('b')], state)).toMatchObject({ labels: { disk: 'ssd' }, message: '1 host lacks labels disk=ssd' });
    expect(labels.applies(setup([host('a')]).ask)).toBe(false);
  });
});

describe('memory', () => {
  it('fits allocatable = physical − reserved − safety buffer, counting placed instances', () => {
    const fleet = { instances: [{ id: 'i', service: 'x', host: 'a', resources: { memory: 13 * GI, cpu: 0 } }] };
    const { state, ask, at } = setup([host('a'), host('b')], { resources: { memory: 2 * GI, cpu: 0 } }, fleet);
    expect(memory.feasible(at('b'), ask, state)).toBe(true); // 14Gi allocatable
    expect(memory.feasible(at('a'), ask, state)).toBe(false); // 1Gi left
    expect(memory.reason(ask, [at('a')], state)).toEqual({
      checker: 'memory',
      resource: 'memory',
      hosts: 1,
      requested: 2 * GI,
      largestFree: GI,
      message: '1 host has less than 2Gi memory free (largest free: 1Gi)',
    });
    const exact = setup([host('a')], { resources: { memory: 14 * GI, cpu: 0 } });
    expect(memory.feasible(exact.at('a'), exact.ask, exact.state)).toBe(true);
  });
});

describe('cpu', () => {
  it('allows cores × the cluster overcommit ratio', () => {
    const fleet = { clusters: [{ name: 'default', cpuOvercommitRatio: 2 }] };
    const { state, ask, at } = setup([host('a', { cores: 4 }), host('b', { cores: 1 })], { resources: { memory: 0, cpu: 4000 } }, fleet);
    expect(cpu.feasible(at('a'), ask, state)).toBe(true); // 8 cores
    expect(cpu.feasible(at('b'), ask, state)).toBe(false); // 2 cores
    expect(cpu.reason(ask, [at('b')], state)).toMatchObject({ resource: 'cpu', requested: 4000, largestFree: 2000 });
    // default ratio 4.0
    const d = setup([host('b', { cores: 1 })], { resources: { memory: 0, cpu: 4000 } });
    expect(cpu.feasible(d.at('b'), d.ask, d.state)).toBe(true);
  });
});

describe('ports', () => {
  it('rejects a host whose port is taken by the host or an instance', () => {
    const fleet = { instances: [{ id: 'i', service: 'agent', host: 'b', resources: { memory: 0, cpu: 0 }, ports: [9100] }] };
    const { state, ask, at } = setup([host('a', { ports: [22] }), host('b'), host('c', { ports: [9100] })], { ports: [9100] }, fleet);
    expect(ports.feasible(at('a'), ask, state)).toBe(true);
    expect(ports.feasible(at('b'), ask, state)).toBe(false);
    expect(ports.feasible(at('c'), ask, state)).toBe(false);
    expect(ports.reason(ask, [at('b'), at('c')], state)?.message).toBe('2 hosts already use port 9100');
  });
});

describe('replicaSpread', () => {
  it('allows hosts holding no more replicas than the level, exempts pinned instances, never blocks alone', () => {
    const fleet = { instances: [{ id: 'i', service: 'web', host: 'a', resources: { memory: 0, cpu: 0 } }] };
    const { state, ask, at } = setup([host('a'), host('b')], {}, fleet);
    expect(replicaSpread.feasible(at('b'), ask, state)).toBe(true);
    expect(replicaSpread.feasible(at('a'), ask, state)).toBe(false);
    ask.spreadLevel = 1;
    expect(replicaSpread.feasible(at('a'), ask, state)).toBe(true);
    expect(replicaSpread.reason(ask, [at('a')], state)).toBeUndefined();
    const pinned = setup([host('a')], { volume: { name: 'v', host: 'a' } });
    expect(replicaSpread.applies(pinned.ask)).toBe(false);
  });
});
