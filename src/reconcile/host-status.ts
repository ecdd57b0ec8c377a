// Where a host stands after a reconcile pass: heartbeat, and a drain's progress.

export interface DrainProgress {
  readonly deadline: string;
  readonly maxParallel: number;
  /** Instances still placed on the host. */
  readonly remaining: number;
  /** Of those, the ones pinned by a volume on the host: the drain cannot move them. */
  readonly stranded: number;
}

export interface HostStatus {
  readonly host: string;
  readonly status: 'absent' | 'active' | 'lost' | 'decommissioned';
  /** The last heartbeat this control plane knows of. */
  readonly lastSeen: string | null;
  readonly drain: DrainProgress | null;
  readonly messages: readonly string[];
  readonly at: string;
}
