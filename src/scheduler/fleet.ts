// The scheduler's input: the hosts of a fleet and what already runs on them. Kept small and
// flat so the reconciler can build it from the host, volume and instance projections.
import type { Resources } from '../core/resources.js';
import type { PlacementConstraints } from './request.js';

/** Only `schedulable` hosts take new instances; `draining` and `lost` hosts are emptied by a reschedule plan. */
export type HostState = 'schedulable' | 'cordoned' | 'draining' | 'lost' | 'decommissioned';

export const HOST_STATES: readonly HostState[] = ['schedulable', 'cordoned', 'draining', 'lost', 'decommissioned'];

export type Strategy = 'binpack' | 'spread';

/** Per-cluster scheduling settings (DESIGN §4). */
export interface Cluster {
  readonly name: string;
  /** Placed CPU stays within cores × this ratio; default 4.0. */
  readonly cpuOvercommitRatio?: number;
  /** bin-pack (default) fills hosts so empty ones can be turned off; spread evens load. */
  readonly strategy?: Strategy;
}

export interface HostMemory {
  /** Bytes of RAM the host has. */
  readonly physical: number;
  /** Bytes kept for the OS, the agent and the driver. */
  readonly reserved: number;
  /** Bytes kept free so a burst does not reach the OOM killer. */
  readonly safetyBuffer: number;
}

export interface Host {
  readonly id: string;
  /** What people read in explain output; the id is what a placement names. */
  readonly name: string;
  /** Defaults to the fleet's first cluster. */
  readonly cluster?: string;
  readonly region: string;
  /** Free-form labels; `zone` is the failure domain replicas are spread across. */
  readonly labels: Readonly<Record<string, string>>;
  readonly state: HostState;
  readonly memory: HostMemory;
  readonly cores: number;
  /** Host ports taken by something berth does not place (sshd, node exporter). */
  readonly ports?: readonly number[];
}

/** An instance already running (or starting) on a host. */
export interface PlacedInstance {
  readonly id: string;
  readonly service: string;
  readonly replica?: number;
  readonly host: string;
  readonly resources: Resources;
  readonly ports?: readonly number[];
  /** The volume this instance mounts; it lives on `host`. */
  readonly volume?: string;
  /** The service's constraints, kept so a reschedule places the replacement under the same rules. */
  readonly placement?: PlacementConstraints;
}

/** A volume and the host its data lives on. */
export interface Volume {
  readonly name: string;
  readonly host: string;
}

export interface Fleet {
  /** At least one; hosts without a `cluster` belong to the first. */
  readonly clusters: readonly Cluster[];
  readonly hosts: readonly Host[];
  readonly instances: readonly PlacedInstance[];
  /** Volumes with no instance mounting them right now; volumes of `instances` are implied. */
  readonly volumes?: readonly Volume[];
}

export const DEFAULT_CPU_OVERCOMMIT = 4;

/** allocatable = physical − reserved − safety buffer (DESIGN §4); never negative. */
export function allocatableMemory(memory: HostMemory): number {
  return Math.max(0, memory.physical - memory.reserved - memory.safetyBuffer);
}
