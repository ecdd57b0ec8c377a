// What the control loops need from observed state (DESIGN §3): when each host's agent last
// reported and what it said about its instances. Not events: the API's store of heartbeats
// (`ObservedFleet`, src/api/observed-fleet.ts) implements this as it is, holding the reports this
// control plane took and those other replicas wrote to the `observed_*` tables.

export type InstanceState = 'starting' | 'ready' | 'unhealthy' | 'restarting' | 'exited' | 'oom' | 'stopped';

export interface ObservedInstance {
  readonly id: string;
  readonly state: InstanceState;
  /** epoch ms of the last state change; while `ready`, when the instance became ready */
  readonly since: number;
  /** The port the agent bound for it: where the edge's route table sends traffic. */
  readonly port?: number;
  /** CPU the instance used over the agent's last sample; the autoscaler's `cpu` signal. */
  readonly cpuMillicores?: number;
}

export interface ObservedHost {
  readonly heartbeatAt: Date;
  /** Everything the agent runs or still remembers, as of its last heartbeat. */
  readonly instances: readonly ObservedInstance[];
}

/** A heartbeat as the watchers of observed state hear it. */
export interface HostReport {
  readonly hostId: string;
  readonly instancesChanged: boolean;
}

export interface ObservedState {
  /** The host's last report; undefined when it has not reported to this control plane. */
  host(hostId: string): ObservedHost | undefined;
  /**
   * Calls `listener` after each report; returns the unsubscribe. Without it, loops only resync.
   * `instancesChanged` is `instancesChanged(previous, report)` for the host's previous report.
   */
  watch?(listener: (report: HostReport) => void): () => void;
}

/** States in which an instance still holds its memory and ports on the host. */
const OCCUPYING: ReadonlySet<InstanceState> = new Set(['starting', 'ready', 'unhealthy', 'restarting']);

export const occupiesHost = (instance: ObservedInstance): boolean => OCCUPYING.has(instance.state);

/**
 * Whether a host's report changed anything the control loops or the edge's route table act on:
 * an instance came or went, or changed state, `since` (it restarted in between) or port. Usage
 * (RSS, CPU) moves with every heartbeat and is not a change. The one definition: the observed
 * fleet computes it once per report and every watcher trusts it.
 */
export function instancesChanged(before: readonly ObservedInstance[] | undefined, after: readonly ObservedInstance[]): boolean {
  if (before?.length !== after.length) return true;
  // By id, not position: an agent need not list its instances in the same order every time.
  const previous = new Map(before.map((i) => [i.id, i]));
  return after.some((i) => {
    const was = previous.get(i.id);
    return was === undefined || was.state !== i.state || was.since !== i.since || was.port !== i.port;
  });
}
