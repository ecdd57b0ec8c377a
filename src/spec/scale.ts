// Autoscaling bounds and the per-instance load the autoscaler aims for (DESIGN §5).
import { z } from 'zod';
import { duration } from './quantities.js';
import { isRecord, readFields, reportRules } from './rule.js';
import type { SpecIssue } from './spec-issue.js';
import { strictObject } from './strict-object.js';

export const DEFAULT_IDLE = '5m';
const DEFAULT_IDLE_MS = 5 * 60_000;
const DEFAULT_MIN = 1;

/** The load one instance should carry; desired = ceil(observed total / value). */
export type ScaleTarget =
  | { readonly type: 'concurrency'; readonly value: number }
  | { readonly type: 'rps'; readonly value: number }
  /** percent of the requested CPU */
  | { readonly type: 'cpu'; readonly value: number }
  /** an external metric pushed to the API, e.g. queue depth */
  | { readonly type: 'metric'; readonly metric: string; readonly value: number };

export interface ScaleSpec {
  readonly min: number;
  readonly max: number;
  readonly target: ScaleTarget;
  /** ms without traffic before scaling to zero; set only when min is 0 */
  readonly idle?: number;
  /**
   * ms of scale-down stabilization: the count goes no lower than the highest recommended within
   * it (Kubernetes' behavior.scaleDown.stabilizationWindowSeconds); unset: the autoscaler's 5 min.
   */
  readonly stabilization?: number;
}

const KINDS = ['concurrency', 'rps', 'cpu', 'metric'] as const;
const TARGET_EXAMPLE = 'target: { concurrency: 20 }, { rps: 100 }, { cpu: 70 } or { metric: queue_depth, value: 100 }';

const targetSchema = strictObject({
  concurrency: z.number().positive().optional(),
  rps: z.number().positive().optional(),
  cpu: z.number().positive().max(100).optional(),
  metric: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]*$/, { error: (i) => `"${String(i.input)}" is not a metric name; write e.g. queue_depth` })
    .optional(),
  value: z.number().positive().optional(),
}).transform((target, ctx): ScaleTarget => {
  const set = KINDS.filter((kind) => target[kind] !== undefined);
  if (set.length === 0) {
    ctx.issues.push({ code: 'custom', message: `names no target; write ${TARGET_EXAMPLE}`, input: target });
    return z.NEVER;
  }
  if (set.length > 1) {
    ctx.issues.push({ code: 'custom', path: [set[1]!], message: `sets both ${set[0]} and ${set[1]}; keep one target`, input: target });
    return z.NEVER;
  }
  if (target.metric !== undefined) {
    if (target.value === undefined) {
      ctx.issues.push({ code: 'custom', message: `metric ${target.metric} needs a per-instance value; add value: 100`, input: target });
      return z.NEVER;
    }
    return { type: 'metric', metric: target.metric, value: target.value };
  }
  if (target.value !== undefined) {
    ctx.issues.push({ code: 'custom', path: ['value'], message: `value belongs to an external metric; write ${set[0]}: ${target.value} instead`, input: target });
    return z.NEVER;
  }
  const kind = set[0] as Exclude<(typeof KINDS)[number], 'metric'>;
  return { type: kind, value: target[kind]! };
});

const scaleFields = {
  min: z.int().min(0).default(DEFAULT_MIN),
  max: z.int().min(1),
  target: targetSchema,
  idle: duration({ positive: true }).optional(),
  stabilization: duration({ positive: false }).optional(),
};

/** The rules between the bounds and idle, over whichever bounds parsed and whether idle is given (see rule.ts). */
function scaleChecks({ min, max, idle }: { min?: number; max?: number; idle?: unknown }): SpecIssue[] {
  if (min === undefined) return [];
  const issues: SpecIssue[] = [];
  if (max !== undefined && min > max) issues.push({ path: ['min'], message: `min ${min} is above max ${max}; lower min or raise max` });
  if (idle !== undefined && min > 0) issues.push({ path: ['idle'], message: `idle scales to zero, which min ${min} forbids; set min: 0 or remove idle` });
  return issues;
}

export const scaleRules = (raw: unknown): SpecIssue[] => (isRecord(raw) ? scaleChecks({ ...readFields(scaleFields, raw), idle: raw.idle }) : []);

export const scaleSchema = strictObject(scaleFields)
  .superRefine((scale, ctx) => reportRules(ctx, scaleChecks(scale)))
  .transform((scale): ScaleSpec => {
    const idle = scale.min === 0 ? (scale.idle ?? DEFAULT_IDLE_MS) : undefined;
    return {
      min: scale.min,
      max: scale.max,
      target: scale.target,
      ...(idle === undefined ? {} : { idle }),
      ...(scale.stabilization === undefined ? {} : { stabilization: scale.stabilization }),
    };
  });
