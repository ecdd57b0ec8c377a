// What `berth deploy` prints when a rollout ends: the control plane's reason carries the advice,
// and the CLI does not add its own on top (it used to say what to do twice).
import { describe, expect, it } from 'vitest';
import { formatRolloutSummary, type DeployedService } from './deploy.js';
import type { RolloutResult } from './rollout-watch.js';

const deployed = (rollout: Partial<RolloutResult> & Pick<RolloutResult, 'outcome'>): DeployedService => ({
  service: 'hello',
  release: 2,
  digest: 'sha256:0',
  uploaded: true,
  serviceCreated: false,
  rollout: { service: 'hello', release: 2, placed: 1, ready: 1, desired: 1, ...rollout },
});

describe('formatRolloutSummary', () => {
  it('passes a failed rollout\'s reason on as the control plane gave it, advice included, once', () => {
    const [line] = formatRolloutSummary([
      deployed({ outcome: 'failed', ready: 0, reason: 'instance hello-3-0 of release 2 was not healthy within 5m; there is no earlier release to revert to: the rollout is stopped; deploy a fix' }),
    ]);
    expect(line).toBe('hello: release 2 failed: instance hello-3-0 of release 2 was not healthy within 5m; there is no earlier release to revert to: the rollout is stopped; deploy a fix');
    expect(line).not.toMatch(/rollback/);
  });

  it('gives the advice itself only when the control plane gave no reason', () => {
    expect(formatRolloutSummary([deployed({ outcome: 'failed' })])).toEqual(['hello: release 2 failed: unknown; deploy a fix, or berth rollback hello']);
  });

  it('says live, reverted and detached rollouts in a line each', () => {
    expect(
      formatRolloutSummary([
        deployed({ outcome: 'live' }),
        deployed({ outcome: 'reverted', reason: 'instance hello-3-0 crashed' }),
        { ...deployed({ outcome: 'live' }), rollout: undefined },
      ]),
    ).toEqual([
      'hello: release 2 is live (1/1 ready)',
      'hello: release 2 was reverted: instance hello-3-0 crashed',
      'hello: release 2 is rolling out (detached); follow it with berth status hello',
    ]);
  });
});
