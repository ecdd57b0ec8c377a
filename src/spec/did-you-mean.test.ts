import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean.js';

describe('editDistance', () => {
  it('counts inserts, deletes, substitutions and swaps as one edit each', () => {
    expect(editDistance('replicas', 'replicas')).toBe(0);
    expect(editDistance('replica', 'replicas')).toBe(1);
    expect(editDistance('replicaz', 'replicas')).toBe(1);
    expect(editDistance('reigon', 'region')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is a symmetric distance that is zero only between equal words', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(editDistance(b, a)).toBe(d);
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('didYouMean', () => {
  const fields = ['run', 'dir', 'env', 'secrets', 'resources', 'replicas', 'scale', 'health', 'placement'];

  it('suggests the closest field for a typo', () => {
    expect(didYouMean('replica', fields)).toBe('replicas');
    expect(didYouMean('resouces', fields)).toBe('resources');
    expect(didYouMean('Secrets', fields)).toBe('secrets');
    expect(didYouMean('helth', fields)).toBe('health');
  });

  it('stays quiet when nothing is close', () => {
    expect(didYouMean('image', fields)).toBeUndefined();
    expect(didYouMean('x', fields)).toBeUndefined();
    expect(didYouMean('replicas', [])).toBeUndefined();
  });
});
