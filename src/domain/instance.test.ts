import { describe, expect, test } from 'vitest';
import { serviceSpecSchema } from '../spec/service.js';
import type { BerthEvent } from './events.js';
import { decide } from './service-decider.fixture.js';

const spec = serviceSpecSchema.parse({ run: 'node server.js' });
const history: BerthEvent[] = [
  { type: 'ServiceCreated', data: { name: 'web', tenant: 'acme', spec } },
  { type: 'ReleaseCreated', data: { version: 1, digest: 'sha256:1', spec, secretNames: [] } },
];
const place = { type: 'PlaceInstance', instance: 'web-1', host: 'h1', release: 1, port: 40_001, replica: 0 } as const;
const placed: BerthEvent = { type: 'InstancePlaced', data: { instance: 'web-1', host: 'h1', release: 1, port: 40_001, replica: 0 } };
const stop = { type: 'RequestInstanceStop', instance: 'web-1', reason: 'scale-in' } as const;

describe('placement records', () => {
  test('record an instance of an existing release', () => {
    expect(decide(history, place)).toEqual({ ok: true, value: [placed] });
  });
  test('refuse a release that does not exist', () => {
    expect(decide(history, { ...place, release: 2 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
  test('refuse placing one instance twice', () => {
    expect(decide([...history, placed], place)).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });
  test('refuse a negative replica and a port outside 1-65535', () => {
    expect(decide(history, { ...place, replica: -1 })).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(decide(history, { ...place, port: 70_000 })).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(decide(history, { ...place, port: null })).toMatchObject({ ok: true });
  });
});

describe('stop requests', () => {
  test('record the reason', () => {
    expect(decide([...history, placed], stop)).toEqual({
      ok: true,
      value: [{ type: 'InstanceStopRequested', data: { instance: 'web-1', reason: 'scale-in' } }],
    });
  });
  test('are allowed on a deleted service so its instances can go', () => {
    expect(decide([...history, placed, { type: 'ServiceDeleted', data: {} }], stop)).toMatchObject({ ok: true });
  });
  test('refuse an instance that is not placed, or already stopped', () => {
    expect(decide(history, stop)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const stopped: BerthEvent = { type: 'InstanceStopRequested', data: { instance: 'web-1', reason: 'x' } };
    expect(decide([...history, placed, stopped], stop)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
