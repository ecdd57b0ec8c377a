import { describe, expect, it } from 'vitest';
import { balancerContract, fakeView, fleet } from './balancer.case.js';
import { ConsistentHash } from './consistent-hash.js';

balancerContract('consistent-hash', () => new ConsistentHash());

const KEYS = Array.from({ length: 10_000 }, (_, i) => `session-${i}`);

describe('ConsistentHash', () => {
  it('sends one key to one instance while nothing changes', () => {
    const balancer = new ConsistentHash();
    const view = fakeView(fleet(10));
    for (const key of KEYS.slice(0, 100)) expect(balancer.pick(view, key)).toBe(balancer.pick(view, key));
  });

  it('moves at most 15 % of 10,000 keys when one of 10 instances goes', () => {
    const balancer = new ConsistentHash();
    const instances = fleet(10);
    const all = fakeView(instances);
    const without = fakeView(instances.filter((i) => i.id !== 'web-4'));
    const before = KEYS.map((key) => balancer.pick(all, key)!.id);
    const after = KEYS.map((key) => balancer.pick(without, key)!.id);
    const moved = before.filter((id, k) => id !== after[k]).length;
    // only the leaving instance's keys move: no key hops between the instances that stay
    expect(before.filter((id, k) => id !== 'web-4' && id !== after[k])).toEqual([]);
    expect(moved / KEYS.length).toBeLessThanOrEqual(0.15);
    expect(moved).toBeGreaterThan(0);
  });

  it('gives no instance more than 1.25× its fair share of 10,000 held keys', () => {
    const balancer = new ConsistentHash(1.25);
    const instances = fleet(10);
    const view = fakeView(instances);
    for (const key of KEYS) balancer.pick(view, key)!.load++;
    for (const i of instances) expect(i.load).toBeLessThanOrEqual(1.25 * (KEYS.length / instances.length));
  });

  it('moves few keys when an instance leaves while all keys are held', () => {
    const balancer = new ConsistentHash(1.25);
    const assign = (instances: ReturnType<typeof fleet>) => {
      const view = fakeView(instances);
      return KEYS.map((key) => {
        const chosen = balancer.pick(view, key)!;
        chosen.load++;
        return chosen.id;
      });
    };
    const before = assign(fleet(10));
    const after = assign(fleet(10).filter((i) => i.id !== 'web-4'));
    const moved = before.filter((id, k) => id !== after[k]).length;
    expect(moved / KEYS.length).toBeLessThanOrEqual(0.15);
  });
});
