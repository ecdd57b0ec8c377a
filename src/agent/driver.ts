// The one interface every runtime of instances implements (DESIGN §7): the process driver
// today, micro-VMs later. All of them pass the contract suite in driver.case.ts.
import type { InstanceSpec } from './instance-spec.js';

/**
 * starting: spawned, readiness not yet passed · ready: routable · unhealthy: readiness failing ·
 * restarting: waiting out the backoff after a crash · exited/oom: not running and not coming back
 * by itself (restart policy, or adopted without the secrets to restart) · stopped: on request.
 */
export type InstanceState = 'starting' | 'ready' | 'unhealthy' | 'restarting' | 'exited' | 'oom' | 'stopped';

export type MemoryEnforcement = 'cgroup-v2' | 'cgroup-v1' | 'none';

export interface InstanceExit {
  /** null when the process was killed by a signal, or exited while adopted (no exit status reaches a non-parent) */
  readonly code: number | null;
  readonly signal: string | null;
  /** killed for memory: by the kernel in a cgroup, or by the driver's RSS watch */
  readonly oom: boolean;
  /** epoch ms */
  readonly at: number;
  /** why, when the code alone does not say: "liveness failed: ...", "exited while the agent was away" */
  readonly reason?: string;
}

export interface InstanceStatus {
  readonly id: string;
  readonly service: string;
  readonly release: string;
  readonly replica: number;
  readonly port: number;
  readonly state: InstanceState;
  /** epoch ms of the last state change */
  readonly since: number;
  /** the process group leader while one runs */
  readonly pid?: number;
  readonly restarts: number;
  readonly lastExit?: InstanceExit;
  /** what the state alone does not say: the failing probe, the next restart */
  readonly message?: string;
  /** found running by this driver after an agent restart rather than started by it */
  readonly adopted: boolean;
}

export interface InstanceStats {
  readonly id: string;
  /** resident memory of every process of the instance */
  readonly rssBytes: number;
  /** user + system CPU of its live processes, ms (drops when a child exits) */
  readonly cpuMs: number;
  /** average CPU since the previous stats() of this instance, in millicores */
  readonly cpuMillicores: number;
  readonly processes: number;
  /** epoch ms */
  readonly at: number;
}

export interface DriverCapabilities {
  readonly driver: string;
  readonly memoryEnforcement: MemoryEnforcement;
  /** with memoryEnforcement none: the driver stops an instance whose RSS passes its cap */
  readonly rssWatch: boolean;
  readonly cpuWeight: boolean;
  readonly pidsLimit: boolean;
  /** instances survive the agent and are re-adopted by the next one */
  readonly adoption: boolean;
}

export interface TailOptions {
  /** epoch ms: only lines written since, to about a second (older lines when the log predates what tells their times) */
  readonly since?: number;
}

export interface InstanceLogs {
  /** the last `lines` lines of stdout and stderr, oldest first, reaching into rotated files */
  tail(lines: number, options?: TailOptions): Promise<string[]>;
  /** lines as they are written, from now on, until `signal` aborts */
  follow(signal?: AbortSignal): AsyncIterable<string>;
  /** the tail and a follow from where it ends, so that nothing written between them is missed or repeated */
  tailToFollow(lines: number, options?: TailOptions): Promise<TailToFollow>;
}

export interface TailToFollow {
  /** the last lines, oldest first (a last line not ended yet comes from the follow, whole) */
  readonly lines: string[];
  /** lines written after those, until `signal` aborts */
  follow(signal?: AbortSignal): AsyncIterable<string>;
}

export interface AdoptionReport {
  /** running and re-adopted */
  readonly adopted: readonly string[];
  /** recorded but gone (or their pid now names another process): listed as exited, never touched */
  readonly exited: readonly string[];
  /** records that could not be read */
  readonly unreadable: readonly { readonly id: string; readonly reason: string }[];
}

export interface Driver {
  capabilities(): DriverCapabilities;
  /**
   * Makes the instance run and resolves once it is spawned (state starting, or ready without a
   * readiness probe). Idempotent: for an instance already running (or waiting out its restart
   * backoff) it only keeps the spec, whose secrets an adopted instance lacks until the agent
   * hands them again, and starts nothing. An instance that is exited, oom or stopped is started
   * again, so the agent calls it for those only when it wants them back.
   */
  start(spec: InstanceSpec): Promise<InstanceStatus>;
  /** The stop signal to every process of the instance, SIGKILL after `grace` ms (default: the spec's). Resolves once all are gone. */
  stop(id: string, grace?: number): Promise<InstanceStatus>;
  /** Stops if needed, then forgets the instance: its record, cgroup and logs. */
  remove(id: string): Promise<void>;
  list(): InstanceStatus[];
  get(id: string): InstanceStatus | undefined;
  /** undefined when the instance runs no process */
  stats(id: string): Promise<InstanceStats | undefined>;
  logs(id: string): InstanceLogs;
  /** Calls `listener` on every state change; returns the unsubscribe. */
  watch(listener: (status: InstanceStatus) => void): () => void;
  /** What opening the driver found in its data directory (set before the driver is returned). */
  readonly adoption: AdoptionReport;
  /** Lets go of every instance, leaving them running for the next agent to adopt, and releases the timers that hold the process open. */
  close(): Promise<void>;
}
