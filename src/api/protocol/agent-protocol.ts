// The agent protocol (`/v1/agent/…`, issue 4): what an agent sends and receives. One zod source
// for request validation, the OpenAPI document and the client's types.
import { z } from 'zod';
import { strictObject } from '../../spec/strict-object.js';
import type { Health } from '../../spec/probe.js';
import type { StopSpec } from '../../spec/deploy.js';

const bytes = z.int().min(0);
const labelKey = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_.\/-]{0,62})$/, {
  error: (i) => `${JSON.stringify(i.input)} is not a label key (letters, digits, "_", ".", "/", "-", at most 63); write e.g. zone`,
});

export const MEMORY_ENFORCEMENTS = ['cgroup-v2', 'cgroup-v1', 'none'] as const;

export const hostMachineSchema = strictObject({
  physicalMemory: z.int().positive(),
  reservedMemory: bytes,
  cores: z.number().positive(),
  disk: bytes,
  driver: z.string().min(1),
  memoryEnforcement: z.enum(MEMORY_ENFORCEMENTS),
  capabilities: z.record(z.string(), z.boolean()),
});

export const enrollRequestSchema = strictObject({
  name: z.string().min(1).max(253),
  /** where the edge and other hosts reach this host's instances */
  address: z.string().min(1).max(253),
  region: z.string().min(1).max(63).default('default'),
  labels: z.record(labelKey, z.string().max(253)).default({}),
  machine: hostMachineSchema,
});
export type EnrollRequest = z.input<typeof enrollRequestSchema>;

export const enrollResponseSchema = z.object({
  hostId: z.string(),
  /** the host credential: an agent-scoped token bound to this host; shown once */
  token: z.string(),
});
export type EnrollResponse = z.output<typeof enrollResponseSchema>;

export const INSTANCE_STATES = ['starting', 'ready', 'unhealthy', 'restarting', 'exited', 'oom', 'stopped'] as const;

export const instanceExitSchema = z.object({
  code: z.int().nullable(),
  signal: z.string().nullable(),
  oom: z.boolean(),
  /** epoch ms */
  at: z.number(),
  reason: z.string().optional(),
});

export const observedInstanceSchema = z.object({
  id: z.string().min(1),
  state: z.enum(INSTANCE_STATES),
  /** absent for an instance the agent could not start (no artifact, a secret not set) */
  port: z.int().min(1).max(65535).optional(),
  pid: z.int().positive().optional(),
  restarts: z.int().min(0),
  /** epoch ms of the last state change */
  since: z.number(),
  lastExit: instanceExitSchema.optional(),
  message: z.string().max(4096).optional(),
  rssBytes: bytes.optional(),
  cpuMillicores: z.number().min(0).optional(),
  adopted: z.boolean().default(false),
});
export type ObservedInstance = z.input<typeof observedInstanceSchema>;

export const hostUsageSchema = z.object({
  memory: z.object({ total: bytes, used: bytes }),
  cpu: z.object({ cores: z.number().positive(), millicores: z.number().min(0) }),
  disk: z.object({ total: bytes, free: bytes }).optional(),
});
export type HostUsage = z.output<typeof hostUsageSchema>;

export const heartbeatRequestSchema = strictObject({
  usage: hostUsageSchema,
  instances: z.array(observedInstanceSchema).max(10_000),
  agent: z.object({
    version: z.string(),
    /** the assignment set the agent converges to */
    assignmentVersion: z.string().optional(),
    memoryEnforcement: z.enum(MEMORY_ENFORCEMENTS),
  }),
});
export type HeartbeatRequest = z.input<typeof heartbeatRequestSchema>;

export const heartbeatResponseSchema = z.object({ hostId: z.string(), at: z.string() });
export type HeartbeatResponse = z.output<typeof heartbeatResponseSchema>;

export const assignmentsQuerySchema = z.object({
  after: z.string().regex(/^\d+\.\d+$/, { error: (i) => `${JSON.stringify(i.input)} is not an assignment version; pass the version of the last set, e.g. 42.1017` }).optional(),
  /** how long to hold the request open when nothing changed, ms */
  wait: z.coerce.number().int().min(0).max(60_000).default(25_000),
});

/** One instance the host must run: everything to start it except secret values, fetched apart. */
export const assignmentSchema = z.object({
  instance: z.string(),
  service: z.string(),
  serviceName: z.string(),
  tenant: z.string(),
  release: z.int(),
  replica: z.int(),
  /** a fixed host port (infra service); null: the agent allocates $PORT */
  port: z.int().nullable(),
  /** `sha256:<hex>` of the release archive */
  digest: z.string(),
  command: z.string(),
  env: z.record(z.string(), z.string()),
  /** names only; values come from GET /v1/agent/instances/:id/secrets */
  secrets: z.array(z.string()),
  resources: z.object({ memory: z.int(), cpu: z.int() }),
  health: z.custom<Health>(),
  stop: z.custom<StopSpec>(),
});
export type Assignment = z.output<typeof assignmentSchema>;

export const assignmentSetSchema = z.object({
  hostId: z.string(),
  /** a log position `<txId>.<position>`: pass it back as `after` */
  version: z.string(),
  instances: z.array(assignmentSchema),
});
export type AssignmentSet = z.output<typeof assignmentSetSchema>;

export const instanceSecretsSchema = z.object({ secrets: z.record(z.string(), z.string()) });
export type InstanceSecrets = z.output<typeof instanceSecretsSchema>;

/** `POST /v1/agent/drains`: the instances of this host the agent is about to stop. */
export const drainQuerySchema = strictObject({
  instances: z.array(z.string().min(1)).max(10_000),
});
export type DrainQuery = z.input<typeof drainQuerySchema>;

export const drainAnswerSchema = z.object({
  /** one per asked instance placed on this host; an instance left out is one the control plane does not place here */
  instances: z.array(
    z.object({
      id: z.string(),
      /** every live edge is done with it: no request in flight, no connection, none to come */
      drained: z.boolean(),
      /** the edges still carrying it, or not yet routing around it */
      holding: z.array(z.string()),
    }),
  ),
});
export type DrainAnswer = z.output<typeof drainAnswerSchema>;
