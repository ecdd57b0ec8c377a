// The host reconciler's decisions, pure: lost after the heartbeat timeout, recovered on a fresh
// heartbeat, a drain completed once nothing is left on the host.
import { describe, expect, test } from 'vitest';
import { initialHostState, type HostState } from '../domain/host.js';
import { planHost, type HostPlanInput } from './plan-host.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const after = (ms: number): Date => new Date(t0.getTime() + ms);
const active: HostState = { ...initialHostState(), status: 'active', name: 'h1' };

const input = (o: Partial<HostPlanInput> & { state?: HostState; lostLastSeen?: Date | null }): HostPlanInput => ({
  host: { id: 'h1', version: 1, state: o.state ?? active, enrolledAt: t0, lostLastSeen: o.lostLastSeen ?? null },
  heartbeatAt: undefined,
  watchingSince: t0,
  placed: [],
  stopping: [],
  now: t0,
  ...o,
});

describe('planHost', () => {
  test('a host is lost once no heartbeat came for the timeout, counted from the last one', () => {
    const alive = planHost(input({ heartbeatAt: after(10_000), now: after(40_000) }));
    expect(alive.commands).toEqual([]);
    expect(alive.requeueAfter).toBe(1);
    const lost = planHost(input({ heartbeatAt: after(10_000), now: after(40_001) }));
    expect(lost.commands).toEqual([{ type: 'MarkHostLost', lastSeen: after(10_000) }]);
    expect(lost.status.status).toBe('lost');
  });

  test('a leader that just took over waits a timeout before calling a silent host lost', () => {
    const since = after(60_000);
    expect(planHost(input({ watchingSince: since, now: after(80_000) })).commands).toEqual([]);
    expect(planHost(input({ watchingSince: since, now: after(90_001) })).commands).toEqual([{ type: 'MarkHostLost', lastSeen: t0 }]);
  });

  test('a lost host with a heartbeat newer than the one it was lost at is recovered', () => {
    const lostState: HostState = { ...active, status: 'lost' };
    const stale = planHost(input({ state: lostState, lostLastSeen: after(10_000), heartbeatAt: after(10_000), now: after(20_000) }));
    expect(stale.commands).toEqual([]);
    const back = planHost(input({ state: lostState, lostLastSeen: after(10_000), heartbeatAt: after(50_000), now: after(51_000) }));
    expect(back.commands).toEqual([{ type: 'RecoverHost' }]);
    expect(back.status.status).toBe('active');
  });

  test('a drain completes once nothing is placed on the host; volumes strand what they pin', () => {
    const draining: HostState = { ...active, cordoned: true, drain: { deadline: after(3_600_000).toISOString(), maxParallel: 1 } };
    const busy = planHost(input({ state: draining, heartbeatAt: t0, placed: [{ id: 'a', stranded: false }, { id: 'db', stranded: true }] }));
    expect(busy.commands).toEqual([]);
    expect(busy.status.drain).toMatchObject({ remaining: 2, stranded: 1 });
    expect(busy.status.messages[0]).toMatch(/1 instance is pinned by volumes on the host/);
    expect(planHost(input({ state: draining, heartbeatAt: t0 })).commands).toEqual([{ type: 'CompleteDrain' }]);
  });

  test('a drain completes once the moved instances have stopped, not when they were asked to', () => {
    const draining: HostState = { ...active, cordoned: true, drain: { deadline: after(3_600_000).toISOString(), maxParallel: 1 } };
    const stopping = planHost(input({ state: draining, heartbeatAt: t0, stopping: ['a'] }));
    expect(stopping.commands).toEqual([]);
    expect(stopping.status.messages).toEqual(['waiting for 1 instance to stop']);
    // a lost host's last report is stale: what it said was stopping does not hold the drain
    const lost = planHost(input({ state: { ...draining, status: 'lost' }, lostLastSeen: t0, heartbeatAt: t0, stopping: ['a'], now: after(60_000) }));
    expect(lost.commands).toEqual([{ type: 'CompleteDrain' }]);
  });

  test('decommissioned hosts are left alone', () => {
    expect(planHost(input({ state: { ...active, status: 'decommissioned' }, now: after(3_600_000) })).commands).toEqual([]);
  });
});
