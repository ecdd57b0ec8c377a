import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drainAtEdges, type EdgeDrainReport, type EdgeInstanceState } from './drain-at-edges.js';

const LIVE = 5_000;
const NOW = 100_000;

const report = (edge: string, at: number, instances: Record<string, EdgeInstanceState>): EdgeDrainReport => ({ edge, at, instances: new Map(Object.entries(instances)) });
const serving: EdgeInstanceState = { leaving: false, drained: false };
const busy: EdgeInstanceState = { leaving: true, drained: false };
const done: EdgeInstanceState = { leaving: true, drained: true };

describe('drainAtEdges', () => {
  it('is drained when no edge reports at all (an instance nothing routes)', () => {
    expect(drainAtEdges('web-1', [], NOW, LIVE)).toEqual({ drained: true, holding: [] });
  });

  it('is drained when the live edges do not list the instance (never routed, or let go)', () => {
    expect(drainAtEdges('web-1', [report('a', NOW, { 'web-2': serving }), report('b', NOW, {})], NOW, LIVE)).toEqual({ drained: true, holding: [] });
  });

  it('is held by an edge that has not seen it leave: it may still send it new requests', () => {
    expect(drainAtEdges('web-1', [report('a', NOW, { 'web-1': serving })], NOW, LIVE)).toEqual({ drained: false, holding: ['a'] });
  });

  it('is held by an edge with work on it, and drained once that edge reports it drained', () => {
    expect(drainAtEdges('web-1', [report('a', NOW, { 'web-1': busy })], NOW, LIVE)).toEqual({ drained: false, holding: ['a'] });
    expect(drainAtEdges('web-1', [report('a', NOW, { 'web-1': done })], NOW, LIVE)).toEqual({ drained: true, holding: [] });
  });

  it('needs every live edge: one drained and one busy is not drained', () => {
    const reports = [report('a', NOW, { 'web-1': done }), report('c', NOW, { 'web-1': busy }), report('b', NOW, { 'web-1': serving })];
    expect(drainAtEdges('web-1', reports, NOW, LIVE)).toEqual({ drained: false, holding: ['b', 'c'] });
  });

  it('does not wait for an edge silent for longer than the live window while others report; one right at its edge still counts', () => {
    expect(drainAtEdges('web-1', [report('gone', NOW - LIVE - 1, { 'web-1': busy }), report('a', NOW, { 'web-1': done })], NOW, LIVE)).toEqual({ drained: true, holding: [] });
    expect(drainAtEdges('web-1', [report('late', NOW - LIVE, { 'web-1': busy }), report('a', NOW, {})], NOW, LIVE)).toEqual({ drained: false, holding: ['late'] });
  });

  it('does not take silence alone for drained: when no edge has reported since, the last word of each stands', () => {
    // the control plane fell behind (its database stalled), or every edge is cut off from it
    const stale = NOW - 3 * LIVE;
    expect(drainAtEdges('web-1', [report('a', stale, { 'web-1': busy }), report('b', stale + 1_000, {})], stale + 1_000, LIVE)).toEqual({ drained: false, holding: ['a'] });
  });

  it('reads "drained" without "leaving" as not done (the edge defines drained as leaving and idle)', () => {
    expect(drainAtEdges('web-1', [report('a', NOW, { 'web-1': { leaving: false, drained: true } })], NOW, LIVE).drained).toBe(false);
  });

  // Every combination of up to four edges, each silent or live, and each listing the instance in
  // one of its states or not at all: drained exactly when no edge that reported within the live
  // window of the newest report lists it not done.
  it('is drained exactly when no edge within the live window of the newest report lists it unfinished, whatever the reports (property)', () => {
    const state = fc.constantFrom<EdgeInstanceState | undefined>(undefined, serving, busy, done, { leaving: false, drained: true });
    const edge = fc.record({ age: fc.integer({ min: -1_000, max: 3 * LIVE }), state, others: fc.array(fc.constantFrom('web-2', 'web-3'), { maxLength: 2 }) });
    fc.assert(
      fc.property(fc.array(edge, { maxLength: 4 }), (edges) => {
        const reports = edges.map((e, i) =>
          report(`edge-${i}`, NOW - e.age, { ...Object.fromEntries(e.others.map((o) => [o, busy])), ...(e.state === undefined ? {} : { 'web-1': e.state }) }),
        );
        // the newest report of any edge, listing the instance or not
        const newest = Math.max(NOW - 3 * LIVE, ...reports.map((r) => r.at));
        const expected = edges.flatMap((e, i) => (newest - (NOW - e.age) <= LIVE && e.state !== undefined && !(e.state.leaving && e.state.drained) ? [`edge-${i}`] : []));
        const verdict = drainAtEdges('web-1', reports, newest, LIVE);
        expect(verdict).toEqual({ drained: expected.length === 0, holding: expected.sort() });
        // the order reports come in changes nothing
        expect(drainAtEdges('web-1', [...reports].reverse(), newest, LIVE)).toEqual(verdict);
      }),
      { numRuns: 500 },
    );
  });
});
