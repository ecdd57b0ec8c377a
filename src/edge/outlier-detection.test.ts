import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTLIER_POLICY as policy, freshOutlierState, recordFailure, recordSuccess } from './outlier-detection.js';

describe('outlier detection', () => {
  it('ejects after consecutive failures only, for a backoff that doubles', () => {
    const state = freshOutlierState();
    for (let i = 0; i < 4; i++) expect(recordFailure(state, policy, 1_000, 0, 4)).toBe(false);
    recordSuccess(state);
    for (let i = 0; i < 4; i++) expect(recordFailure(state, policy, 1_000, 0, 4)).toBe(false);
    expect(recordFailure(state, policy, 1_000, 0, 4)).toBe(true);
    expect(state.ejectedUntil).toBe(1_000 + policy.baseEjectionMs);
    const later = state.ejectedUntil + 1;
    for (let i = 0; i < 4; i++) recordFailure(state, policy, later, 0, 4);
    expect(recordFailure(state, policy, later, 0, 4)).toBe(true);
    expect(state.ejectedUntil).toBe(later + 2 * policy.baseEjectionMs);
  });

  it('never ejects more than half of a service', () => {
    const state = freshOutlierState();
    for (let i = 0; i < 10; i++) expect(recordFailure(state, policy, 0, 1, 2)).toBe(false);
    for (let i = 0; i < 10; i++) expect(recordFailure(freshOutlierState(), policy, 0, 0, 1)).toBe(false);
  });
});
