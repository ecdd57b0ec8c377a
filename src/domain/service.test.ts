import { describe, expect, test } from 'vitest';
import { serviceSpecSchema } from '../spec/service.js';
import { fold } from './decider.js';
import type { BerthEvent } from './events.js';
import { serviceDecider, type ServiceCommand } from './service.js';
import { decide, events, rejection } from './service-decider.fixture.js';

const spec = serviceSpecSchema.parse({ run: 'node server.js', http: { host: 'web.example.com' } });
const autoscaled = serviceSpecSchema.parse({ run: 'node server.js', scale: { min: 1, max: 4, target: { concurrency: 20 } } });
const now = new Date('2026-01-01T12:00:00Z');
const later = (ms: number): Date => new Date(now.getTime() + ms);

const created: BerthEvent = { type: 'ServiceCreated', data: { name: 'web', tenant: 'acme', spec } };
const deleted: BerthEvent = { type: 'ServiceDeleted', data: {} };
const autoCreated: BerthEvent = { type: 'ServiceCreated', data: { name: 'api', tenant: 'acme', spec: autoscaled } };

describe('create', () => {
  test('records the service', () => {
    expect(events([], { type: 'CreateService', name: 'web', tenant: 'acme', spec })).toEqual([created]);
  });
  test('refuses a service that exists', () => {
    expect(rejection([created], { type: 'CreateService', name: 'web', tenant: 'acme', spec }).code).toBe('conflict');
  });
  test('refuses an empty tenant', () => {
    expect(rejection([], { type: 'CreateService', name: 'web', tenant: '', spec }).code).toBe('validation');
  });
});

describe('a deleted service takes no changes', () => {
  const commands: ServiceCommand[] = [
    { type: 'ChangeServiceSpec', spec: autoscaled },
    { type: 'SetReplicas', replicas: 2 },
    { type: 'SetScale', scale: { min: 1, max: 2, target: { type: 'rps', value: 10 } } },
    { type: 'StartBurst', replicas: 3, until: later(60_000), now },
    { type: 'CreateRelease', digest: 'sha256:abc', spec, secretNames: [] },
    { type: 'PlaceInstance', instance: 'i1', host: 'h1', release: 1, port: null, replica: 0 },
  ];
  test.each(commands)('$type', (command) => {
    const error = rejection([created, deleted], command);
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/deleted/);
  });
  test('deleting twice records nothing', () => {
    expect(events([created, deleted], { type: 'DeleteService' })).toEqual([]);
  });
  test('commands on an absent service are not found', () => {
    expect(rejection([], { type: 'SetReplicas', replicas: 1 }).code).toBe('not_found');
  });
});

describe('spec changes', () => {
  test('a changed replica count or scale in the spec is applied', () => {
    expect(events([created], { type: 'ChangeServiceSpec', spec: autoscaled })).toEqual([
      { type: 'ServiceSpecChanged', data: { spec: autoscaled } },
      { type: 'ScaleSpecSet', data: autoscaled.scale },
    ]);
    const three = { ...spec, replicas: 3 };
    expect(events([created], { type: 'ChangeServiceSpec', spec: three })[1]).toEqual({ type: 'ReplicasSet', data: { replicas: 3 } });
  });
  test('a berth scale since the last deploy survives a deploy that leaves scaling alone', () => {
    const scaled: BerthEvent = { type: 'ReplicasSet', data: { replicas: 5 } };
    const other = { ...spec, env: { MODE: 'prod' } };
    expect(events([created, scaled], { type: 'ChangeServiceSpec', spec: other })).toEqual([{ type: 'ServiceSpecChanged', data: { spec: other } }]);
  });
  test('the same spec, read back from JSON, records nothing', () => {
    const roundTripped = JSON.parse(JSON.stringify(spec)) as typeof spec;
    expect(events([created], { type: 'ChangeServiceSpec', spec: { ...roundTripped } })).toEqual([]);
  });
});

describe('replicas', () => {
  test('are set', () => {
    expect(events([created], { type: 'SetReplicas', replicas: 3 })).toEqual([{ type: 'ReplicasSet', data: { replicas: 3 } }]);
  });
  test('zero is allowed', () => {
    expect(events([created], { type: 'SetReplicas', replicas: 0 })).toHaveLength(1);
  });
  test.each([-1, 1.5, Number.NaN])('refuse %s', (replicas) => {
    expect(rejection([created], { type: 'SetReplicas', replicas }).code).toBe('validation');
  });
  test('setting the current count records nothing', () => {
    expect(events([created], { type: 'SetReplicas', replicas: 1 })).toEqual([]);
  });
});

describe('scale bounds', () => {
  const target = { type: 'concurrency', value: 20 } as const;
  test('are set', () => {
    expect(events([created], { type: 'SetScale', scale: { min: 0, max: 5, target } })).toEqual([
      { type: 'ScaleSpecSet', data: { min: 0, max: 5, target } },
    ]);
  });
  test('min above max is refused', () => {
    const error = rejection([created], { type: 'SetScale', scale: { min: 5, max: 2, target } });
    expect(error.code).toBe('validation');
    expect(error.message).toMatch(/min 5 is above max 2/);
  });
  test('negative min and zero max are refused', () => {
    expect(rejection([created], { type: 'SetScale', scale: { min: -1, max: 2, target } }).code).toBe('validation');
    expect(rejection([created], { type: 'SetScale', scale: { min: 0, max: 0, target } }).code).toBe('validation');
  });
  test('the same bounds record nothing', () => {
    expect(events([autoCreated], { type: 'SetScale', scale: autoscaled.scale! })).toEqual([]);
  });
  test('bounds clamp the desired count; fixed replicas switch back to fixed', () => {
    const history: BerthEvent[] = [created, { type: 'ReplicasSet', data: { replicas: 9 } }, { type: 'ScaleSpecSet', data: { min: 1, max: 4, target } }];
    expect(fold(serviceDecider, history).scaling).toEqual({ mode: 'auto', min: 1, max: 4, target, desired: 4 });
    expect(fold(serviceDecider, [...history, { type: 'ReplicasSet', data: { replicas: 2 } }]).scaling).toEqual({ mode: 'fixed', replicas: 2 });
  });
});

describe('bursts', () => {
  test('start with an expiry in the future', () => {
    expect(events([created], { type: 'StartBurst', replicas: 4, until: later(30 * 60_000), now })).toEqual([
      { type: 'BurstStarted', data: { replicas: 4, until: '2026-01-01T12:30:00.000Z' } },
    ]);
  });
  test.each([0, -1000])('refuse an expiry %s ms from now', (offset) => {
    const error = rejection([created], { type: 'StartBurst', replicas: 4, until: later(offset), now });
    expect(error.code).toBe('validation');
    expect(error.message).toMatch(/not after now/);
  });
  test('refuse an invalid date and zero replicas', () => {
    expect(rejection([created], { type: 'StartBurst', replicas: 4, until: new Date('nope'), now }).code).toBe('validation');
    expect(rejection([created], { type: 'StartBurst', replicas: 0, until: later(1000), now }).code).toBe('validation');
  });
  const burst: BerthEvent = { type: 'BurstStarted', data: { replicas: 4, until: later(60_000).toISOString() } };
  test('end when cancelled', () => {
    expect(events([created, burst], { type: 'EndBurst', reason: 'cancelled', now })).toEqual([{ type: 'BurstEnded', data: { reason: 'cancelled' } }]);
  });
  test('expire only once their time has come', () => {
    expect(rejection([created, burst], { type: 'EndBurst', reason: 'expired', now }).code).toBe('conflict');
    expect(events([created, burst], { type: 'EndBurst', reason: 'expired', now: later(60_000) })).toHaveLength(1);
  });
  test('ending without a burst records nothing', () => {
    expect(events([created], { type: 'EndBurst', reason: 'cancelled', now })).toEqual([]);
  });
});

describe('autoscale decisions', () => {
  const decision = { type: 'RecordAutoscaleDecision', reason: 'concurrency 55 > 2 x 20', signals: { concurrency: 55 }, now } as const;
  test('are recorded within [min, max] from the current count', () => {
    expect(events([autoCreated], { ...decision, from: 1, to: 3 })).toEqual([
      { type: 'AutoscaleDecided', data: { from: 1, to: 3, reason: decision.reason, signals: decision.signals } },
    ]);
  });
  test('outside the bounds are refused', () => {
    expect(rejection([autoCreated], { ...decision, from: 1, to: 5 }).code).toBe('validation');
    expect(rejection([autoCreated], { ...decision, from: 1, to: 0 }).code).toBe('validation');
  });
  test('an active burst raises the ceiling', () => {
    const burst: BerthEvent = { type: 'BurstStarted', data: { replicas: 6, until: later(60_000).toISOString() } };
    expect(events([autoCreated, burst], { ...decision, from: 1, to: 6 })).toHaveLength(1);
  });
  test('a stale decision is a conflict', () => {
    const moved: BerthEvent = { type: 'AutoscaleDecided', data: { from: 1, to: 2, reason: 'up', signals: {} } };
    expect(rejection([autoCreated, moved], { ...decision, from: 1, to: 3 }).code).toBe('conflict');
  });
  test('a service with fixed replicas is not autoscaled', () => {
    expect(rejection([created], { ...decision, from: 1, to: 2 }).code).toBe('conflict');
  });
});
