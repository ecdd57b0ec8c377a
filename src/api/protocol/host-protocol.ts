// `berth hosts` and the host lifecycle (`/v1/hosts/…`): what a host looks like to an operator,
// and the bodies of cordon and drain.
import { z } from 'zod';
import { duration } from '../../spec/quantities.js';
import { MEMORY_ENFORCEMENTS } from './agent-protocol.js';

/** ready: takes placements · cordoned: keeps its instances, takes no new ones · draining: moving its instances away */
export const HOST_STATES = ['ready', 'cordoned', 'draining', 'lost', 'decommissioned'] as const;

const resources = z.object({ memory: z.int(), cpu: z.int() });

export const hostSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(HOST_STATES),
  address: z.string(),
  region: z.string(),
  labels: z.record(z.string(), z.string()),
  /** what berth may place: memory in bytes, CPU in millicores (before overcommit) */
  allocatable: resources,
  /** what the live placements on it ask for */
  placed: resources,
  /** memory in use on the machine, from the last heartbeat */
  usedMemory: z.int().nullable(),
  instances: z.int(),
  lastHeartbeat: z.string().nullable(),
  /** how the agent enforces memory limits; null before its first heartbeat */
  memoryEnforcement: z.enum(MEMORY_ENFORCEMENTS).nullable(),
  drain: z.object({ deadline: z.string(), maxParallel: z.int(), remaining: z.int() }).nullable(),
});
export type HostSummary = z.output<typeof hostSummarySchema>;

export const hostListSchema = z.object({ hosts: z.array(hostSummarySchema) });
export type HostList = z.output<typeof hostListSchema>;

export const cordonRequestSchema = z.strictObject({ reason: z.string().max(500).optional() }).prefault({});
export type CordonRequest = z.input<typeof cordonRequestSchema>;

export const drainRequestSchema = z
  .strictObject({
    /** how long the drain may take before the remaining instances are stopped anyway: 30m, 1h */
    deadline: duration({ positive: true }).default(60 * 60_000),
    /** instances moved at once */
    maxParallel: z.int().min(1).max(1000).default(1),
  })
  .prefault({});
export type DrainRequest = z.input<typeof drainRequestSchema>;
