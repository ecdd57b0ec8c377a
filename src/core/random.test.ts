import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';

describe('seededRandom', () => {
  it('replays the same sequence from the same seed, numbers and strings alike', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom('42');
    const draws = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(draws);
    expect(Array.from({ length: 5 }, () => c.next())).toEqual(draws);
    expect(seededRandom(43).next()).not.toBe(draws[0]);
  });

  it('stays in range', () => {
    const r = seededRandom('range');
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      const n = r.int(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
      const b = r.between(-2, 2);
      expect(b >= -2 && b <= 2).toBe(true);
    }
  });

  it('shuffles to a permutation and forks independent streams', () => {
    const r = seededRandom(1);
    const items = Array.from({ length: 100 }, (_, i) => i);
    const shuffled = r.shuffle([...items]);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    const f1 = seededRandom(9).fork('hosts');
    const f2 = seededRandom(9).fork('hosts');
    expect(f1.next()).toBe(f2.next());
    expect(() => r.pick([])).toThrow();
  });
});
