import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/random.js';
import { balancerContract, fakeView, fleet } from './balancer.case.js';
import { LeastOutstanding } from './least-outstanding.js';

const SEED = 'edge-p2c';
balancerContract(`least-outstanding (seed ${SEED})`, () => new LeastOutstanding(seededRandom(SEED)));

describe('LeastOutstanding', () => {
  it('of two picks the less loaded, so a busy instance is avoided', () => {
    const balancer = new LeastOutstanding(seededRandom(SEED));
    const instances = fleet(2);
    instances[0]!.load = 10;
    for (let n = 0; n < 50; n++) expect(balancer.pick(fakeView(instances))?.id).toBe('web-1');
  });

  it('keeps the busiest instance within a few requests of the mean under churn', () => {
    const random = seededRandom(SEED);
    const balancer = new LeastOutstanding(random);
    const instances = fleet(8);
    const view = fakeView(instances);
    const held: typeof instances = [];
    for (let n = 0; n < 20_000; n++) {
      const chosen = balancer.pick(view)!;
      chosen.load++;
      held.push(chosen);
      // work finishes in random order, keeping about 80 in flight
      if (held.length > 80) held.splice(random.int(held.length), 1)[0]!.load--;
    }
    expect(Math.max(...instances.map((i) => i.load))).toBeLessThanOrEqual(80 / 8 + 5);
  });
});
