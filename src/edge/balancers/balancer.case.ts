// The contract suite every balancer passes (STYLE: one shared suite per interface). Each
// balancer's own test file runs it, then tests what only that balancer promises.
import { describe, expect, it } from 'vitest';
import type { Balancer, CandidateView } from './balancer.js';

export interface FakeInstance {
  id: string;
  load: number;
  eligible: boolean;
  soft: number;
}

export function fakeView(instances: FakeInstance[]): CandidateView<FakeInstance> {
  return {
    items: instances,
    id: (i) => i.id,
    eligible: (i) => i.eligible,
    underSoft: (i) => i.load < i.soft,
    load: (i) => i.load,
  };
}

export function fleet(n: number, soft = Infinity): FakeInstance[] {
  return Array.from({ length: n }, (_, i) => ({ id: `web-${i}`, load: 0, eligible: true, soft }));
}

/** `make` returns a fresh balancer; `keyed` balancers get a different key for every pick. */
export function balancerContract(name: string, make: () => Balancer): void {
  let keys = 0;
  const pick = (balancer: Balancer, view: CandidateView<FakeInstance>) => balancer.pick(view, `client-${keys++}`);

  describe(`${name} (balancer contract)`, () => {
    it('picks nothing when no instance is eligible, and never an ineligible one', () => {
      const balancer = make();
      const instances = fleet(5);
      instances.forEach((i) => (i.eligible = false));
      expect(pick(balancer, fakeView(instances))).toBeUndefined();
      expect(pick(balancer, fakeView([]))).toBeUndefined();
      instances[3]!.eligible = true;
      for (let n = 0; n < 100; n++) expect(pick(balancer, fakeView(instances))?.id).toBe('web-3');
    });

    it('uses instances over their soft limit only when every instance is over it', () => {
      const balancer = make();
      const instances = fleet(4, 2);
      for (const i of instances) i.load = 5;
      instances[2]!.load = 1;
      for (let n = 0; n < 100; n++) expect(pick(balancer, fakeView(instances))?.id).toBe('web-2');
      instances[2]!.load = 5;
      expect(pick(balancer, fakeView(instances))).toBeDefined();
    });

    it('spreads held work evenly enough over the instances', () => {
      const balancer = make();
      const instances = fleet(10);
      const view = fakeView(instances);
      for (let n = 0; n < 10_000; n++) pick(balancer, view)!.load++;
      const loads = instances.map((i) => i.load);
      expect(Math.max(...loads)).toBeLessThanOrEqual(1_250);
      expect(Math.min(...loads)).toBeGreaterThan(0);
    });
  });
}
