import { expect, test } from 'vitest';
import { rolloutLimits } from './rollout-limits.js';

test('counts stay counts; percents round surge up and unavailable down', () => {
  expect(rolloutLimits({ maxSurge: { count: 2 }, maxUnavailable: { count: 1 } }, 10)).toEqual({ surge: 2, unavailable: 1 });
  expect(rolloutLimits({ maxSurge: { percent: 25 }, maxUnavailable: { percent: 25 } }, 10)).toEqual({ surge: 3, unavailable: 2 });
});

test('a rollout can always move: 0 and 0 after rounding become a surge of 1', () => {
  expect(rolloutLimits({ maxSurge: { count: 0 }, maxUnavailable: { percent: 25 } }, 1)).toEqual({ surge: 1, unavailable: 0 });
});
