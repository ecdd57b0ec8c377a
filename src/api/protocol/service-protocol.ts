// Services and releases (`/v1/services/…`, issue 6 items 2-3): what `berth deploy`, `releases`,
// `rollback` and `scale vm` send, and what `status` and `explain` read back. Specs travel as
// written in berth.yaml (`memory: 256Mi`) and are checked by the spec's own rules on arrival;
// responses carry the parsed spec (bytes, millicores, ms). No response holds a secret value.
import { z } from 'zod';
import { envName, scalarText } from '../../spec/names.js';
import { strictObject } from '../../spec/strict-object.js';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, {
  error: (i) => `${JSON.stringify(i.input)} is not an artifact digest; pass the sha256:<64 hex> of an archive uploaded with PUT /v1/artifacts/{digest}`,
});

/** A service spec as written in berth.yaml; checked with checkServiceSpec, errors under body.spec. */
const rawSpec = z.record(z.string(), z.unknown()).meta({ description: 'one service of berth.yaml, as written (see docs/berth-yaml.md)' });

export const putServiceSchema = strictObject({ spec: rawSpec });
export type PutService = z.input<typeof putServiceSchema>;

export const createReleaseSchema = strictObject({
  /** the release archive, uploaded before with PUT /v1/artifacts/{digest} */
  digest,
  /** the service as written in berth.yaml; omitted: the service's current spec (the service must exist) */
  spec: rawSpec.optional(),
  /** env of this release on top of spec.env */
  env: z.record(envName, scalarText).default({}),
  /** secret names delivered to instances; default: spec.secrets */
  secretNames: z.array(envName).optional(),
});
export type CreateRelease = z.input<typeof createReleaseSchema>;

export const rollbackSchema = strictObject({
  /** the release to restore; default: the one that served before the active one */
  to: z.int().min(1).optional(),
}).prefault({});
export type Rollback = z.input<typeof rollbackSchema>;

export const resizeSchema = strictObject({
  /** per instance, as in berth.yaml: 512Mi */
  memory: z.union([z.string(), z.number()]).optional(),
  /** per instance, as in berth.yaml: 1, 0.5, 250m */
  cpu: z.union([z.string(), z.number()]).optional(),
});
export type Resize = z.input<typeof resizeSchema>;

export const releaseCreatedSchema = z.object({
  service: z.string(),
  release: z.int(),
  /** the service did not exist before this release */
  serviceCreated: z.boolean(),
  /** a rollout of the release started (false only when it was already rolling out or live) */
  rolloutStarted: z.boolean(),
  /** for rollbacks: the release whose code, spec and env were restored */
  restoredFrom: z.int().optional(),
});
export type ReleaseCreatedResponse = z.output<typeof releaseCreatedSchema>;

const spec = z.record(z.string(), z.unknown()).meta({ description: 'the parsed service spec: memory in bytes, cpu in millicores, durations in ms' });

export const releaseSchema = z.object({
  version: z.int(),
  digest: z.string(),
  spec,
  env: z.record(z.string(), z.string()),
  secretNames: z.array(z.string()),
  createdAt: z.string(),
  rolloutStartedAt: z.string().nullable(),
  rolledOutAt: z.string().nullable(),
  revertedAt: z.string().nullable(),
  revertReason: z.string().nullable(),
  /** the release serving traffic now */
  active: z.boolean(),
  /** the release rolling out now */
  rollingOut: z.boolean(),
});
export type ReleaseInfo = z.output<typeof releaseSchema>;
export const releaseListSchema = z.object({ service: z.string(), releases: z.array(releaseSchema) });
export type ReleaseList = z.output<typeof releaseListSchema>;

export const serviceInstanceSchema = z.object({
  id: z.string(),
  host: z.string(),
  release: z.int(),
  replica: z.int(),
  placedAt: z.string(),
  /** set once the reconciler asked the instance to stop (scale-in, rollout, drain, delete) */
  stopRequestedAt: z.string().nullable(),
  stopReason: z.string().nullable(),
  /** as its agent last reported it; `unknown` before the first report */
  state: z.string(),
  /** the port the agent bound */
  port: z.int().nullable(),
  /** the process id on its host, for the process driver */
  pid: z.int().optional(),
  restarts: z.int(),
  since: z.string().nullable(),
  lastExit: z.unknown().optional(),
  message: z.string().optional(),
});
export type ServiceInstance = z.output<typeof serviceInstanceSchema>;

export const serviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  tenant: z.string(),
  status: z.enum(['active', 'deleted']),
  spec,
  /** the fixed count, or the autoscaler's last decision when `scale` is set */
  replicas: z.int(),
  scale: z.unknown().nullable(),
  burst: z.object({ replicas: z.int(), until: z.string() }).nullable(),
  latestRelease: z.int().nullable(),
  activeRelease: z.int().nullable(),
  rollout: z.object({ release: z.int(), previous: z.int().nullable() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** placements still running or being stopped, with what their agents report */
  instances: z.array(serviceInstanceSchema),
  /** the control loops' last pass (desired, placed, ready, unplaceable reasons, rollout progress); null on a follower or before the first pass */
  reconcile: z.unknown().nullable(),
  /** the error that keeps the loops from converging this service, if any */
  reconcileError: z.unknown().nullable(),
});
export type ServiceInfo = z.output<typeof serviceSchema>;
export const serviceListSchema = z.object({ services: z.array(serviceSchema) });
export type ServiceList = z.output<typeof serviceListSchema>;
