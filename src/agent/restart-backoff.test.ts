import { describe, expect, it } from 'vitest';
import { RestartBackoff } from './restart-backoff.js';

describe('RestartBackoff', () => {
  const policy = { when: 'always', initialDelay: 1_000, maxDelay: 30_000, resetAfter: 10_000 } as const;
  it('doubles from 1 s to a 30 s ceiling while the instance keeps crashing', () => {
    const backoff = new RestartBackoff(policy);
    expect(Array.from({ length: 7 }, () => backoff.next(100))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
  it('starts over after a run that stayed up 10 s', () => {
    const backoff = new RestartBackoff(policy);
    backoff.next(0);
    backoff.next(0);
    expect(backoff.next(10_000)).toBe(1_000);
    expect(backoff.next(50)).toBe(2_000);
  });
});
