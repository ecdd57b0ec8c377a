import { describe, expect, test } from 'vitest';
import { serviceSpecSchema } from '../spec/service.js';
import { fold } from './decider.js';
import type { BerthEvent } from './events.js';
import { serviceDecider } from './service.js';
import { events, rejection } from './service-decider.fixture.js';

const spec = serviceSpecSchema.parse({ run: 'node server.js' });
const created: BerthEvent = { type: 'ServiceCreated', data: { name: 'web', tenant: 'acme', spec } };
const release = (version: number): BerthEvent => ({
  type: 'ReleaseCreated',
  data: { version, digest: `sha256:${version}`, spec, secretNames: ['DATABASE_URL'] },
});
const started = (r: number, previous: number | null): BerthEvent => ({ type: 'RolloutStarted', data: { release: r, previous } });
const completed = (r: number): BerthEvent => ({ type: 'RolloutCompleted', data: { release: r } });

describe('releases', () => {
  const create = { type: 'CreateRelease', digest: 'sha256:abc', spec, secretNames: ['DATABASE_URL'] } as const;
  test('get the next version when none is given, secrets by name only', () => {
    expect(events([created, release(1)], create)).toEqual([
      { type: 'ReleaseCreated', data: { version: 2, digest: 'sha256:abc', spec, secretNames: ['DATABASE_URL'] } },
    ]);
  });
  test('versions only increase', () => {
    expect(events([created, release(3)], { ...create, version: 7 })[0]).toMatchObject({ data: { version: 7 } });
    const error = rejection([created, release(3)], { ...create, version: 3 });
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/not above the latest release 3/);
    expect(rejection([created, release(3)], { ...create, version: 2 }).code).toBe('conflict');
  });
  test('need a positive whole version and a digest', () => {
    expect(rejection([created], { ...create, version: 0 }).code).toBe('validation');
    expect(rejection([created], { ...create, version: 1.5 }).code).toBe('validation');
    expect(rejection([created], { ...create, digest: '' }).code).toBe('validation');
  });
  test('carry env when given', () => {
    expect(events([created], { ...create, env: { MODE: 'prod' } })[0]).toMatchObject({ data: { env: { MODE: 'prod' } } });
  });
});

describe('rollouts', () => {
  test('only of an existing release', () => {
    expect(rejection([created, release(1)], { type: 'StartRollout', release: 2 }).code).toBe('not_found');
    expect(events([created, release(1)], { type: 'StartRollout', release: 1 })).toEqual([started(1, null)]);
  });
  test('remember the release they replace', () => {
    expect(events([created, release(1), started(1, null), completed(1), release(2)], { type: 'StartRollout', release: 2 })).toEqual([
      started(2, 1),
    ]);
  });
  test('rolling out the live release, or the one rolling out, records nothing', () => {
    expect(events([created, release(1), started(1, null), completed(1)], { type: 'StartRollout', release: 1 })).toEqual([]);
    expect(events([created, release(1), started(1, null)], { type: 'StartRollout', release: 1 })).toEqual([]);
  });
  test('a newer rollout supersedes one in progress, keeping the live release as previous', () => {
    const history = [created, release(1), started(1, null), completed(1), release(2), started(2, 1), release(3)];
    expect(events(history, { type: 'StartRollout', release: 3 })).toEqual([started(3, 1)]);
  });
  test('rolling back to an older release is a rollout', () => {
    const history = [created, release(1), started(1, null), completed(1), release(2), started(2, 1), completed(2)];
    expect(events(history, { type: 'StartRollout', release: 1 })).toEqual([started(1, 2)]);
  });
  test('complete only the release rolling out', () => {
    const history = [created, release(1), release(2), started(1, null)];
    expect(events(history, { type: 'CompleteRollout', release: 1 })).toEqual([completed(1)]);
    expect(rejection(history, { type: 'CompleteRollout', release: 2 }).code).toBe('conflict');
    expect(events([...history, completed(1)], { type: 'CompleteRollout', release: 1 })).toEqual([]);
  });
  test('revert to the release they replaced', () => {
    const history = [created, release(1), started(1, null), completed(1), release(2), started(2, 1)];
    expect(events(history, { type: 'RevertRollout', reason: 'healthy deadline passed' })).toEqual([
      { type: 'RolloutReverted', data: { release: 2, to: 1, reason: 'healthy deadline passed' } },
    ]);
    const reverted = fold(serviceDecider, [...history, { type: 'RolloutReverted', data: { release: 2, to: 1, reason: 'x' } }]);
    expect(reverted.activeRelease).toBe(1);
    expect(reverted.rollout).toBeNull();
  });
  test('revert needs a rollout in progress and an earlier release', () => {
    expect(rejection([created, release(1)], { type: 'RevertRollout', reason: 'x' }).code).toBe('conflict');
    expect(rejection([created, release(1), started(1, null)], { type: 'RevertRollout', reason: 'x' }).message).toMatch(/first to roll out/);
  });
});
