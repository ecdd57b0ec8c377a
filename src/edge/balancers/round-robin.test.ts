import { describe, expect, it } from 'vitest';
import { balancerContract, fakeView, fleet } from './balancer.case.js';
import { RoundRobin } from './round-robin.js';

balancerContract('round-robin', () => new RoundRobin());

describe('RoundRobin', () => {
  it('visits every instance once per round', () => {
    const balancer = new RoundRobin();
    const view = fakeView(fleet(3));
    const ids = Array.from({ length: 6 }, () => balancer.pick(view)!.id);
    expect(new Set(ids.slice(0, 3)).size).toBe(3);
    expect(ids.slice(3)).toEqual(ids.slice(0, 3));
  });
});
