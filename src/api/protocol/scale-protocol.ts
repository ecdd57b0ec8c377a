// `berth scale`: a fixed count, autoscale bounds, bursts, and what the autoscaler is doing.
import { z } from 'zod';
import { duration } from '../../spec/quantities.js';
import { scaleSchema } from '../../spec/scale.js';
import { strictObject } from '../../spec/strict-object.js';

/** `PUT /v1/services/{service}/replicas`: a fixed count; autoscaling stops. */
export const setReplicasSchema = strictObject({ replicas: z.int().min(0) });
export type SetReplicas = z.input<typeof setReplicasSchema>;

/** `PUT /v1/services/{service}/scale`: the same `scale:` as berth.yaml. */
export const setScaleSchema = scaleSchema;
export type SetScale = z.input<typeof setScaleSchema>;

/** `POST /v1/services/{service}/burst`: raise the floor to `replicas` for `for` (30m). */
export const startBurstSchema = strictObject({
  replicas: z.int().min(1),
  for: duration({ positive: true }),
});
export type StartBurst = z.input<typeof startBurstSchema>;

const targetView = z.object({ type: z.enum(['concurrency', 'rps', 'cpu', 'metric']), metric: z.string().optional(), value: z.number() });

const decisionView = z.object({
  at: z.string(),
  from: z.int(),
  to: z.int(),
  reason: z.string(),
  signals: z.record(z.string(), z.number()),
  actor: z.string().nullable(),
});
export type DecisionView = z.output<typeof decisionView>;

export const scaleViewSchema = z.object({
  service: z.string(),
  mode: z.enum(['fixed', 'auto']),
  /** fixed: the count */
  replicas: z.int().nullable(),
  /** auto: the bounds and target; idle and stabilization (the spec's, when set) in ms */
  scale: z.object({ min: z.int(), max: z.int(), target: targetView, idle: z.number().optional(), stabilization: z.number().optional() }).nullable(),
  burst: z.object({ replicas: z.int(), until: z.string() }).nullable(),
  current: z.object({
    /** the count asked for now: replicas, or the last decision raised to an active burst */
    desired: z.int(),
    placed: z.int(),
    ready: z.int(),
  }),
  /** the leader's last evaluation; null when this control plane does not run the autoscaler */
  pending: z
    .object({ at: z.string(), wants: z.int(), reason: z.string(), waiting: z.string().optional(), inputs: z.record(z.string(), z.number()) })
    .nullable(),
  /** newest first */
  decisions: z.array(decisionView),
});
export type ScaleView = z.output<typeof scaleViewSchema>;
