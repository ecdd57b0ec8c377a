import { expect, it } from 'vitest';
import { ReconnectBackoff } from './reconnect-backoff.js';

it('doubles from the initial wait up to the cap, with jitter in the upper half, and resets', () => {
  const top = new ReconnectBackoff(250, 10_000, () => 1);
  expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => top.next())).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  const bottom = new ReconnectBackoff(250, 10_000, () => 0);
  expect([bottom.next(), bottom.next()]).toEqual([125, 250]);
  top.reset();
  expect(top.failures).toBe(0);
  expect(top.next()).toBe(250);
});
