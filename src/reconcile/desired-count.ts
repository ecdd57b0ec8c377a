// How many instances a service wants now (DESIGN §5): its fixed replicas, or the autoscaler's
// last decision clamped to [min, max]; a burst raises that floor until it expires.
import type { ServiceState } from '../domain/service-state.js';

export const burstActive = (state: ServiceState, now: Date): boolean => state.burst !== null && Date.parse(state.burst.until) > now.getTime();

export const burstExpired = (state: ServiceState, now: Date): boolean => state.burst !== null && !burstActive(state, now);

export function desiredCount(state: ServiceState, now: Date): number {
  if (state.status !== 'active') return 0;
  const s = state.scaling;
  const base = s.mode === 'fixed' ? s.replicas : Math.min(Math.max(s.desired, s.min), s.max);
  return burstActive(state, now) ? Math.max(base, state.burst?.replicas ?? 0) : base;
}
