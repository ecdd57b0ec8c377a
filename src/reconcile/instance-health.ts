// When an instance counts: ready, and ready for `minHealthy` (issue 6 item 3), so an instance
// that passes one probe and then crashes never lets a rollout or a drain take the old one away.
import type { ObservedInstance } from './observed-state.js';

/** Epoch ms at which the instance counts as healthy if it stays ready; undefined while not ready. */
export const healthyFrom = (observed: ObservedInstance | undefined, minHealthy: number): number | undefined =>
  observed?.state === 'ready' ? observed.since + minHealthy : undefined;

export function isHealthy(observed: ObservedInstance | undefined, minHealthy: number, now: Date): boolean {
  const from = healthyFrom(observed, minHealthy);
  return from !== undefined && from <= now.getTime();
}
