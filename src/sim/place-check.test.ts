// The scheduler against the independent checker over many seeds: mixed fleets and the
// adversarial ones (almost full, one huge host, all cordoned but one), both strategies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPlan } from './check.js';
import { generate, PROFILES } from './generate.js';
import { placeWorkload } from './place-workload.js';

describe('place + check', () => {
  it('places every workload without a violation (property over seeds and profiles)', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          profile: fc.constantFrom(...PROFILES),
          hosts: fc.integer({ min: 1, max: 80 }),
          instances: fc.integer({ min: 0, max: 1500 }),
          fill: fc.constantFrom(undefined, 0.3, 0.7, 0.95, 1.5),
          strategy: fc.constantFrom(undefined, 'binpack' as const, 'spread' as const),
          candidates: fc.constantFrom(undefined, 1, 2, 5),
        }),
        ({ seed, profile, hosts, instances, fill, strategy, candidates }) => {
          const { fleet, workload } = generate({ hosts, instances, seed, profile, ...(fill === undefined ? {} : { fill }) });
          const { plan } = placeWorkload(fleet, workload, {
            seed,
            ...(strategy === undefined ? {} : { strategy }),
            ...(candidates === undefined ? {} : { candidates }),
          });
          const report = checkPlan(fleet, workload, plan);
          const replay = `generate({ hosts: ${hosts}, instances: ${instances}, seed: ${seed}, profile: '${profile}', fill: ${fill} }), strategy ${strategy}, candidates ${candidates}`;
          expect(report.violations, replay).toEqual([]);
          expect(report.placements + report.unplaceable, replay).toBe(instances);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the almost-full fleet within memory while refusing what does not fit', () => {
    const { fleet, workload } = generate({ hosts: 40, instances: 2000, seed: 99, profile: 'almost-full' });
    const { plan } = placeWorkload(fleet, workload, { seed: 99 });
    expect(plan.unplaceable.length).toBeGreaterThan(100);
    expect(plan.unplaceable[0]!.reasons.some((r) => r.checker === 'memory')).toBe(true);
    expect(checkPlan(fleet, workload, plan).violations).toEqual([]);
  });
});
