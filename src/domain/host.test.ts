import { describe, expect, test } from 'vitest';
import { fold } from './decider.js';
import type { BerthEvent } from './events.js';
import { hostDecider, type HostCommand } from './host.js';

const now = new Date('2026-01-01T12:00:00Z');
const enroll = {
  type: 'EnrollHost',
  name: 'h1',
  address: '10.0.0.1:7070',
  region: 'fra',
  capacity: { memory: 8 * 2 ** 30, cpu: 4000 },
  labels: { disk: 'ssd' },
} as const;
const enrolled: BerthEvent = {
  type: 'HostEnrolled',
  data: { name: 'h1', address: '10.0.0.1:7070', region: 'fra', capacity: enroll.capacity, labels: { disk: 'ssd' } },
};
const cordoned: BerthEvent = { type: 'HostCordoned', data: { reason: 'maintenance' } };
const lost: BerthEvent = { type: 'HostLost', data: { lastSeen: now.toISOString() } };
const decommissioned: BerthEvent = { type: 'HostDecommissioned', data: {} };

const decide = (history: BerthEvent[], command: HostCommand) => hostDecider.decide(command, fold(hostDecider, history));
const code = (history: BerthEvent[], command: HostCommand) => {
  const d = decide(history, command);
  return d.ok ? 'ok' : d.error.code;
};
const types = (history: BerthEvent[], command: HostCommand) => {
  const d = decide(history, command);
  if (!d.ok) throw new Error(d.error.message);
  return d.value.map((e) => e.type);
};

describe('enroll', () => {
  test('records capacity, labels and region', () => {
    expect(decide([], enroll)).toEqual({ ok: true, value: [enrolled] });
  });
  test('refuses a host enrolled before', () => {
    expect(code([enrolled], enroll)).toBe('conflict');
  });
  test('refuses a host without memory or CPU', () => {
    expect(code([], { ...enroll, capacity: { memory: 0, cpu: 1000 } })).toBe('validation');
    expect(code([], { ...enroll, capacity: { memory: 1, cpu: 0 } })).toBe('validation');
  });
});

describe('cordon', () => {
  test('cordons and uncordons, idempotently', () => {
    expect(types([enrolled], { type: 'CordonHost', reason: 'maintenance' })).toEqual(['HostCordoned']);
    expect(types([enrolled, cordoned], { type: 'CordonHost', reason: 'again' })).toEqual([]);
    expect(types([enrolled, cordoned], { type: 'UncordonHost' })).toEqual(['HostUncordoned']);
    expect(types([enrolled], { type: 'UncordonHost' })).toEqual([]);
  });
  test('no uncordon of a decommissioned host', () => {
    const d = decide([enrolled, cordoned, decommissioned], { type: 'UncordonHost' });
    expect(d).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(d.ok ? '' : d.error.message).toMatch(/decommissioned/);
  });
  test('a host not enrolled is not found', () => {
    expect(code([], { type: 'CordonHost', reason: 'x' })).toBe('not_found');
  });
});

describe('drain', () => {
  const drain = { type: 'DrainHost', deadline: new Date(now.getTime() + 600_000), maxParallel: 2, now } as const;
  test('starts with a future deadline and cordons the host', () => {
    expect(decide([enrolled], drain)).toEqual({
      ok: true,
      value: [{ type: 'HostDrainStarted', data: { deadline: '2026-01-01T12:10:00.000Z', maxParallel: 2 } }],
    });
    const state = fold(hostDecider, [enrolled, { type: 'HostDrainStarted', data: { deadline: 'x', maxParallel: 2 } }]);
    expect(state.cordoned).toBe(true);
  });
  test('refuses a past deadline, a parallelism under 1, a lost host', () => {
    expect(code([enrolled], { ...drain, deadline: now })).toBe('validation');
    expect(code([enrolled], { ...drain, maxParallel: 0 })).toBe('validation');
    expect(code([enrolled, lost], drain)).toBe('conflict');
  });
  test('prints a refused deadline in ISO 8601, as the events hold it', () => {
    const message = (deadline: Date): string => {
      const d = decide([enrolled], { ...drain, deadline });
      return d.ok ? '' : d.error.message;
    };
    expect(message(new Date(now.getTime() - 1000))).toBe(
      'drain deadline: 2026-01-01T11:59:59.000Z is not after now (2026-01-01T12:00:00.000Z); give a duration such as --deadline 10m',
    );
    expect(message(new Date(Number.NaN))).toBe('drain deadline: not a valid date; give a duration such as --deadline 10m');
  });
  test('completes once, and uncordon calls it off', () => {
    const draining: BerthEvent = { type: 'HostDrainStarted', data: { deadline: 'x', maxParallel: 1 } };
    expect(types([enrolled, draining], { type: 'CompleteDrain' })).toEqual(['HostDrainCompleted']);
    expect(types([enrolled], { type: 'CompleteDrain' })).toEqual([]);
    expect(fold(hostDecider, [enrolled, draining, { type: 'HostUncordoned', data: {} }]).drain).toBeNull();
  });
});

describe('lost and recovered', () => {
  test('a host is lost once and recovers', () => {
    expect(types([enrolled], { type: 'MarkHostLost', lastSeen: now })).toEqual(['HostLost']);
    expect(types([enrolled, lost], { type: 'MarkHostLost', lastSeen: now })).toEqual([]);
    expect(types([enrolled, lost], { type: 'RecoverHost' })).toEqual(['HostRecovered']);
    expect(types([enrolled], { type: 'RecoverHost' })).toEqual([]);
  });
  test('a decommissioned host is neither lost nor recovered', () => {
    expect(code([enrolled, lost, decommissioned], { type: 'RecoverHost' })).toBe('conflict');
    expect(code([enrolled, cordoned, decommissioned], { type: 'MarkHostLost', lastSeen: now })).toBe('conflict');
  });
});

describe('decommission', () => {
  test('is refused while volumes remain', () => {
    const d = decide([enrolled, cordoned], { type: 'DecommissionHost', volumes: ['pgdata'] });
    expect(d).toMatchObject({ ok: false, error: { code: 'conflict', details: { volumes: ['pgdata'] } } });
  });
  test('is refused while the host takes placements', () => {
    expect(code([enrolled], { type: 'DecommissionHost', volumes: [] })).toBe('conflict');
  });
  test('goes ahead on a cordoned or lost host without volumes, once', () => {
    expect(types([enrolled, cordoned], { type: 'DecommissionHost', volumes: [] })).toEqual(['HostDecommissioned']);
    expect(types([enrolled, lost], { type: 'DecommissionHost', volumes: [] })).toEqual(['HostDecommissioned']);
    expect(types([enrolled, cordoned, decommissioned], { type: 'DecommissionHost', volumes: [] })).toEqual([]);
  });
  test('is final: no cordon, drain or enroll afterwards', () => {
    const gone = [enrolled, cordoned, decommissioned];
    expect(code(gone, { type: 'CordonHost', reason: 'x' })).toBe('conflict');
    expect(code(gone, { type: 'DrainHost', deadline: new Date(now.getTime() + 1000), maxParallel: 1, now })).toBe('conflict');
    expect(code(gone, enroll)).toBe('conflict');
  });
});
