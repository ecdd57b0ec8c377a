// `berth status` and `berth explain` (issue 6 item 7): a service's chain desired -> placed ->
// running -> ready -> routed, its release and scale state, and for explain the first link that
// breaks and why. Built from projections, what agents report and what the control loops decided.
import { z } from 'zod';

export const scaleStateSchema = z.union([
  z.object({ mode: z.literal('fixed'), replicas: z.int() }),
  z.object({ mode: z.literal('auto'), min: z.int(), max: z.int(), desired: z.int(), target: z.unknown() }),
]);

export const serviceStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  desired: z.int(),
  /** live placements (not asked to stop) */
  placed: z.int(),
  /** of those, the ones whose process runs (starting, ready, unhealthy, restarting) */
  running: z.int(),
  ready: z.int(),
  /** ready instances the edge sends new requests to (not draining, host not lost) */
  routed: z.int(),
  /** the release serving traffic; null before the first rollout completes */
  release: z.int().nullable(),
  latestRelease: z.int().nullable(),
  rollout: z
    .object({
      release: z.int(),
      previous: z.int().nullable(),
      healthy: z.int().optional(),
      desired: z.int().optional(),
      failure: z.string().optional(),
      /** when an instance of the release must be healthy by, at the latest */
      deadline: z.string().nullable(),
    })
    .nullable(),
  scale: scaleStateSchema,
  burst: z.object({ replicas: z.int(), until: z.string() }).nullable(),
  /** how the edge reaches it: an HTTP host and path, or a TCP port */
  route: z.union([z.object({ http: z.object({ host: z.string(), path: z.string() }) }), z.object({ tcp: z.object({ port: z.int() }) })]).nullable(),
  /** why it does not converge, for people; empty when nothing is wrong */
  messages: z.array(z.string()),
});
export type ServiceStatusInfo = z.output<typeof serviceStatusSchema>;

export const statusSchema = z.object({
  services: z.array(serviceStatusSchema),
  /** whether this control plane runs the control loops (leader): without them nothing converges */
  reconciling: z.boolean(),
});
export type StatusInfo = z.output<typeof statusSchema>;

export const LINKS = ['desired', 'placed', 'running', 'ready', 'routed', 'rollout'] as const;
export type LinkName = (typeof LINKS)[number];

export const explainedInstanceSchema = z.object({
  id: z.string(),
  host: z.string(),
  hostName: z.string(),
  release: z.int(),
  /** as its agent last reported it; `unreported` before the first report */
  state: z.string(),
  restarts: z.int(),
  lastExit: z.object({ code: z.int().nullable(), signal: z.string().nullable(), oom: z.boolean(), at: z.string(), reason: z.string().optional() }).nullable(),
  /** what the state alone does not say: the failing probe, the next restart */
  message: z.string().nullable(),
  stopReason: z.string().nullable(),
  routed: z.boolean(),
});
export type ExplainedInstance = z.output<typeof explainedInstanceSchema>;

export const explanationSchema = z.object({
  service: serviceStatusSchema,
  links: z.array(z.object({ link: z.enum(LINKS), ok: z.boolean(), summary: z.string() })),
  /** the first link that breaks; null when the service has converged */
  broken: z
    .object({
      link: z.enum(LINKS),
      /** unschedulable, crash-loop, oom, failing-health, draining, host-lost, rollout-stuck, … */
      reason: z.string(),
      message: z.string(),
      instance: z.string().optional(),
      /** the scheduler's structured reasons, for unschedulable */
      reasons: z.array(z.unknown()).optional(),
      /** the instance's last log lines, for a crash */
      logs: z.array(z.string()).optional(),
    })
    .nullable(),
  instances: z.array(explainedInstanceSchema),
  /** the control loops' error on this service, if a pass keeps failing */
  reconcileError: z.string().nullable(),
});
export type Explanation = z.output<typeof explanationSchema>;
