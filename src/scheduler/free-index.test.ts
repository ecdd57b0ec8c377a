import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketFloor, bucketOf, FreeIndex } from './free-index.js';

const MI = 2 ** 20;

describe('bucketOf', () => {
  it('is monotone, exact below 256Mi and within 1% above', () => {
    let last = -1;
    for (let mib = 0; mib < 300_000; mib += 37) {
      const b = bucketOf(mib * MI);
      expect(b).toBeGreaterThanOrEqual(last);
      last = b;
      expect(bucketFloor(b)).toBeLessThanOrEqual(mib * MI);
      if (mib < 256) expect(b).toBe(mib);
      else expect(mib * MI - bucketFloor(b)).toBeLessThanOrEqual(mib * MI * 0.008);
    }
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(2 ** 60)).toBeLessThan(BUCKETS);
  });
});

describe('FreeIndex', () => {
  it('walks every indexed host with enough free memory, whatever the moves (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(19), fc.integer({ min: 0, max: 300 * 1024 })), { minLength: 1, maxLength: 200 }),
        (moves) => {
          const index = new FreeIndex(20, 2);
          const free = new Map<number, number>();
          for (const [host, mib] of moves) {
            const bytes = mib * MI;
            if (!index.has(host)) index.insert(host, host % 2, bytes);
            else if (mib % 17 === 0) {
              index.remove(host);
              free.delete(host);
              continue;
            } else index.update(host, bytes);
            free.set(host, bytes);
          }
          for (const partition of [0, 1]) {
            const seen: number[] = [];
            for (let b = index.firstFrom(partition, 0); b >= 0; b = index.firstFrom(partition, b + 1)) {
              for (let h = index.head(partition, b); h >= 0; h = index.after(h)) seen.push(h);
            }
            const down: number[] = [];
            for (let b = index.lastUpTo(partition, BUCKETS - 1); b >= 0; b = index.lastUpTo(partition, b - 1)) {
              for (let h = index.head(partition, b); h >= 0; h = index.after(h)) down.push(h);
            }
            const expected = [...free.keys()].filter((h) => h % 2 === partition).sort((a, b) => a - b);
            expect([...seen].sort((a, b) => a - b)).toEqual(expected);
            expect([...down].sort((a, b) => a - b)).toEqual(expected);
            // ascending walk meets hosts in (bucketed) free-memory order
            for (let i = 1; i < seen.length; i++) expect(bucketOf(free.get(seen[i]!)!)).toBeGreaterThanOrEqual(bucketOf(free.get(seen[i - 1]!)!));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
