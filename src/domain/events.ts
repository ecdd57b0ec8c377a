// Every fact berth records, one union discriminated by `type` (DESIGN §3). Data is plain JSON
// (times as ISO-8601 strings, memory in bytes, CPU in millicores) because it lands in jsonb.
// Payloads stay lean: the stream id already names the service, host, volume or tenant.
import type { Resources } from '../core/resources.js';
import type { ScaleSpec } from '../spec/scale.js';
import type { ServiceSpec } from '../spec/service.js';

export interface Event<Type extends string, Data extends object> {
  readonly type: Type;
  readonly data: Data;
}

// ---- stream service-<id>: the service, its releases and its placed instances ----

export type ServiceCreated = Event<'ServiceCreated', { name: string; tenant: string; spec: ServiceSpec }>;
export type ServiceSpecChanged = Event<'ServiceSpecChanged', { spec: ServiceSpec }>;
export type ServiceDeleted = Event<'ServiceDeleted', Record<string, never>>;

/** An immutable snapshot of what to run; secrets travel by name only. */
export type ReleaseCreated = Event<
  'ReleaseCreated',
  { version: number; digest: string; spec: ServiceSpec; env?: Record<string, string>; secretNames: string[] }
>;
export type RolloutStarted = Event<'RolloutStarted', { release: number; previous: number | null }>;
export type RolloutCompleted = Event<'RolloutCompleted', { release: number }>;
export type RolloutReverted = Event<'RolloutReverted', { release: number; to: number; reason: string }>;

/** Autoscaling bounds and target as the operator sets them (`berth scale web --min 1 --max 8`). */
export type ScaleSpecSet = Event<'ScaleSpecSet', ScaleSpec>;
export type ReplicasSet = Event<'ReplicasSet', { replicas: number }>;
export type BurstStarted = Event<'BurstStarted', { replicas: number; until: string }>;
export type BurstEnded = Event<'BurstEnded', { reason: 'expired' | 'cancelled' }>;
export type AutoscaleDecided = Event<
  'AutoscaleDecided',
  { from: number; to: number; reason: string; signals: Record<string, number> }
>;

export type InstancePlaced = Event<
  'InstancePlaced',
  { instance: string; host: string; release: number; port: number | null; replica: number }
>;
export type InstanceStopRequested = Event<'InstanceStopRequested', { instance: string; reason: string }>;

export type ServiceEvent =
  | ServiceCreated
  | ServiceSpecChanged
  | ServiceDeleted
  | ReleaseCreated
  | RolloutStarted
  | RolloutCompleted
  | RolloutReverted
  | ScaleSpecSet
  | ReplicasSet
  | BurstStarted
  | BurstEnded
  | AutoscaleDecided
  | InstancePlaced
  | InstanceStopRequested;

// ---- stream host-<id> ----

/**
 * What the agent found on the machine at enrollment. `capacity.memory` is what berth may place
 * (physical minus reserved); this keeps the parts. Absent on hosts enrolled without an agent.
 */
export interface HostMachine {
  physicalMemory: number;
  reservedMemory: number;
  cores: number;
  /** bytes of the filesystem holding the agent's data directory */
  disk: number;
  driver: string;
  memoryEnforcement: 'cgroup-v2' | 'cgroup-v1' | 'none';
  capabilities: Record<string, boolean>;
}

export type HostEnrolled = Event<
  'HostEnrolled',
  { name: string; address: string; region: string; capacity: Resources; labels: Record<string, string>; machine?: HostMachine }
>;
export type HostCordoned = Event<'HostCordoned', { reason: string }>;
export type HostUncordoned = Event<'HostUncordoned', Record<string, never>>;
export type HostDrainStarted = Event<'HostDrainStarted', { deadline: string; maxParallel: number }>;
export type HostDrainCompleted = Event<'HostDrainCompleted', Record<string, never>>;
export type HostLost = Event<'HostLost', { lastSeen: string }>;
/** A lost host's agent came back before anyone decommissioned it. */
export type HostRecovered = Event<'HostRecovered', Record<string, never>>;
export type HostDecommissioned = Event<'HostDecommissioned', Record<string, never>>;

export type HostEvent =
  | HostEnrolled
  | HostCordoned
  | HostUncordoned
  | HostDrainStarted
  | HostDrainCompleted
  | HostLost
  | HostRecovered
  | HostDecommissioned;

// ---- stream volume-<id> ----

export type VolumeCreated = Event<'VolumeCreated', { name: string; tenant: string; service: string; host: string; size: number }>;
export type VolumeBackedUp = Event<'VolumeBackedUp', { backup: string; size: number }>;
export type VolumeDeleted = Event<'VolumeDeleted', Record<string, never>>;

export type VolumeEvent = VolumeCreated | VolumeBackedUp | VolumeDeleted;

// ---- stream tenant-<id> ----

export type TenantCreated = Event<'TenantCreated', { name: string }>;
/** The value is encrypted at rest elsewhere; the log only knows that version N of a name exists. */
export type SecretSet = Event<'SecretSet', { name: string; version: number }>;
export type SecretDeleted = Event<'SecretDeleted', { name: string }>;

export type TenantEvent = TenantCreated | SecretSet | SecretDeleted;

export type BerthEvent = ServiceEvent | HostEvent | VolumeEvent | TenantEvent;
export type BerthEventType = BerthEvent['type'];
export type EventOfType<T extends BerthEventType> = Extract<BerthEvent, { type: T }>;
