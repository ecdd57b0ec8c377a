// How a new release replaces the running one (rolling, Nomad-style health gates), and how an
// instance is stopped.
import { z } from 'zod';
import { formatDuration } from '../core/quantity.js';
import { duration } from './quantities.js';
import { isRecord, readFields, reportRules } from './rule.js';
import type { SpecIssue } from './spec-issue.js';
import { strictObject } from './strict-object.js';

/** A number of instances, or a percent of the desired count (rounded up for surge, down for unavailable). */
export type InstanceCount = { readonly count: number } | { readonly percent: number };

export interface DeploySpec {
  readonly strategy: 'rolling';
  /** instances started above the desired count during a rollout */
  readonly maxSurge: InstanceCount;
  /** instances of the desired count that may be not ready during a rollout */
  readonly maxUnavailable: InstanceCount;
  /** ms a new instance must stay ready before it counts as healthy */
  readonly minHealthy: number;
  /** ms a new instance has to become healthy before the rollout fails */
  readonly healthyDeadline: number;
  /** revert to the previous release when the rollout fails */
  readonly autoRevert: boolean;
}

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

export interface StopSpec {
  readonly signal: (typeof STOP_SIGNALS)[number];
  /** ms between the signal and SIGKILL */
  readonly grace: number;
}

const instanceCount = z
  .union([
    z.int().min(0),
    z.string().regex(/^\d+%$/, { error: (i) => `"${String(i.input)}" is neither a count nor a percent; write e.g. 1 or 25%` }),
  ])
  .transform((input, ctx): InstanceCount => {
    if (typeof input === 'number') return { count: input };
    const percent = Number(input.slice(0, -1));
    if (percent > 100) ctx.issues.push({ code: 'custom', message: `"${input}" is above 100%; write at most 100%`, input });
    return { percent };
  });

const isZero = (n: InstanceCount): boolean => ('count' in n ? n.count : n.percent) === 0;

const deployFields = {
  strategy: z.literal('rolling').default('rolling'),
  maxSurge: instanceCount.default({ count: 1 }),
  maxUnavailable: instanceCount.default({ count: 0 }),
  minHealthy: duration({ positive: false }).prefault('10s'),
  healthyDeadline: duration({ positive: true }).prefault('5m'),
  autoRevert: z.boolean().default(true),
};

type DeployFields = Partial<Pick<DeploySpec, 'maxSurge' | 'maxUnavailable' | 'minHealthy' | 'healthyDeadline'>>;

/** The rules between the fields of deploy, over whichever of them parsed (see rule.ts). */
function deployChecks({ maxSurge, maxUnavailable, minHealthy, healthyDeadline }: DeployFields): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (maxSurge !== undefined && maxUnavailable !== undefined && isZero(maxSurge) && isZero(maxUnavailable)) {
    issues.push({
      path: ['maxSurge'],
      message: 'maxSurge and maxUnavailable are both 0, so a rollout could never replace an instance; set maxSurge: 1',
    });
  }
  if (minHealthy !== undefined && healthyDeadline !== undefined && minHealthy >= healthyDeadline) {
    issues.push({
      path: ['healthyDeadline'],
      message: `${formatDuration(healthyDeadline)} leaves no time to stay healthy for minHealthy ${formatDuration(minHealthy)}; raise healthyDeadline above minHealthy`,
    });
  }
  return issues;
}

export const deployRules = (raw: unknown): SpecIssue[] => (isRecord(raw) ? deployChecks(readFields(deployFields, raw)) : []);

export const deploySchema = strictObject(deployFields).superRefine((deploy, ctx) => reportRules(ctx, deployChecks(deploy)));

export const stopSchema = strictObject({
  signal: z.enum(STOP_SIGNALS).default('SIGTERM'),
  grace: duration({ positive: false }).prefault('30s'),
});
