import { describe, expect, it } from 'vitest';
import { RequestCompiler } from '../compiled-request.js';
import type { Fleet, Host, PlacedInstance } from '../fleet.js';
import { prepare } from '../pipeline.js';
import { PlacementState } from '../state.js';
import { antiAffinity } from './anti-affinity.js';
import { fit } from './fit.js';
import { zoneSpread } from './zone-spread.js';

const GI = 2 ** 30;

const host = (id: string, zone: string | undefined, extra: Partial<Host> = {}): Host => ({
  id,
  name: id,
  region: 'eu',
  labels: zone === undefined ? {} : { zone },
  state: 'schedulable',
  memory: { physical: 10 * GI, reserved: 0, safetyBuffer: 0 },
  cores: 1,
  ...extra,
});

const web = (hostId: string, memory = 0, cpu = 0): PlacedInstance => ({ id: `${hostId}-${Math.random()}`, service: 'web', host: hostId, resources: { memory, cpu } });

function setup(hosts: Host[], instances: PlacedInstance[], fleet: Partial<Fleet> = {}, memory = GI, cpu = 0) {
  const state = new PlacementState({ clusters: [{ name: 'default' }], hosts, instances, ...fleet });
  const ask = prepare(new RequestCompiler(state).compile({ service: 'web', replica: 9, resources: { memory, cpu } }));
  return { state, ask, at: (id: string) => state.hostIds.get(id)! };
}

describe('fit', () => {
  it('scores BestFit v3: clamp(20 − (10^freeCpu + 10^freeMem), 0, 18) / 18', () => {
    // host a: 10Gi, 4 cores (ratio 4 → 4000m); 8Gi and 2000m used; the request takes 1Gi and 1000m
    const { state, ask, at } = setup([host('a', 'z', { cores: 1 })], [web('a', 8 * GI, 2000)], {}, GI, 1000);
    const freeMem = 1 / 10;
    const freeCpu = 1000 / 4000;
    expect(fit.score(at('a'), ask, state)).toBeCloseTo((20 - (10 ** freeCpu + 10 ** freeMem)) / 18, 10);
  });

  it('prefers the fuller host under bin-pack and the emptier one under spread', () => {
    const hosts = [host('full', 'z'), host('empty', 'z')];
    const binpack = setup(hosts, [web('full', 8 * GI)]);
    expect(fit.score(binpack.at('full'), binpack.ask, binpack.state)).toBeGreaterThan(fit.score(binpack.at('empty'), binpack.ask, binpack.state));
    expect(fit.score(binpack.at('empty'), binpack.ask, binpack.state)).toBeLessThan(0.15);
    const spread = setup(hosts, [web('full', 8 * GI)], { clusters: [{ name: 'default', strategy: 'spread' }] });
    expect(fit.score(spread.at('empty'), spread.ask, spread.state)).toBeGreaterThan(fit.score(spread.at('full'), spread.ask, spread.state));
    for (const s of [binpack, spread]) for (const id of ['full', 'empty']) {
      const score = fit.score(s.at(id), s.ask, s.state);
      expect(score >= 0 && score <= 1).toBe(true);
    }
  });
});

describe('antiAffinity', () => {
  it('halves the score per replica already on the host', () => {
    const { state, ask, at } = setup([host('a', 'z'), host('b', 'z'), host('c', 'z')], [web('b'), web('c'), web('c')]);
    expect(antiAffinity.score(at('a'), ask, state)).toBe(1);
    expect(antiAffinity.score(at('b'), ask, state)).toBe(1 / 2);
    expect(antiAffinity.score(at('c'), ask, state)).toBe(1 / 3);
  });
});

describe('zoneSpread', () => {
  it('scores the least-loaded zone 1 and each replica above it lower; a host without a zone is neutral', () => {
    const hosts = [host('a1', 'a'), host('a2', 'a'), host('b1', 'b'), host('c1', 'c'), host('n', undefined)];
    const { state, ask, at } = setup(hosts, [web('a1'), web('a2'), web('b1')]);
    expect(zoneSpread.score(at('c1'), ask, state)).toBe(1);
    expect(zoneSpread.score(at('b1'), ask, state)).toBe(1 / 2);
    expect(zoneSpread.score(at('a1'), ask, state)).toBe(1 / 3);
    expect(zoneSpread.score(at('n'), ask, state)).toBe(0.5);
  });
});
