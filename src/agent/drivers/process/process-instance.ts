// One instance under the process driver: its runs (one process group each), the restart policy
// with backoff, its probes, and the record that lets the next agent adopt it.
//
// Exit detection: for a run this agent spawned, the child's 'exit' event (exact code and signal).
// An adopted run is not our child, so no exit status reaches us; we poll /proc/<pid>/stat
// (every `exitPoll` ms: one small read) until the pid is gone, a zombie, or another process.
// pidfd would wake us at once but is not reachable from Node without a native module.
import type { ChildProcess } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceExit, InstanceState, InstanceStats, InstanceStatus } from '../../driver.js';
import type { InstanceCgroup } from '../../cgroup.js';
import { formatDuration } from '../../../core/quantity.js';
import { HealthWatch } from '../../health-watch.js';
import type { InstanceLog } from '../../instance-log.js';
import { instanceEnv } from '../../instance-env.js';
import { DEFAULT_RESTART, DEFAULT_STOP, type InstanceSpec } from '../../instance-spec.js';
import { isSameProcess, parseProcStat, readProcessTable, readProcStat, type ProcStat } from '../../proc-stat.js';
import { RestartBackoff } from '../../restart-backoff.js';
import { removeInstanceDir, withoutSecrets, writeRecord, type InstanceRecord, type RecordedRun } from './instance-record.js';
import { JOIN_FAILED, launch } from './launch.js';

export interface InstanceContext {
  readonly dir: string;
  readonly log: InstanceLog;
  readonly cgroup?: InstanceCgroup;
  readonly bootId: string;
  /** ms between readiness probes while starting */
  readonly startingPoll: number;
  /** ms between checks that an adopted process still lives */
  readonly exitPoll: number;
  readonly changed: (status: InstanceStatus) => void;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason?: string;
}

interface Run {
  readonly pid: number;
  readonly startTime: number;
  readonly startedAt: number;
  readonly child?: ChildProcess;
  /** resolves when the group leader has exited */
  readonly exited: Promise<ExitInfo>;
  /** resolves once the exit is handled: leftovers killed, state set, restart scheduled */
  ended?: Promise<void>;
  readonly oomBaseline: number;
  readonly stopWatching: () => void;
  health?: HealthWatch;
  /** set when the driver itself killed the run, to report why */
  killedFor?: { readonly reason: string; readonly oom: boolean };
  /** while a stop signal is out: epoch ms when its grace period ends */
  graceEnds?: number;
}

const LIVE: readonly InstanceState[] = ['starting', 'ready', 'unhealthy'];

export class ProcessInstance {
  #spec: InstanceSpec;
  #secretsKnown: boolean;
  #desired: 'running' | 'stopped' = 'running';
  #state: InstanceState = 'starting';
  #since = Date.now();
  #message: string | undefined;
  #restarts = 0;
  #lastExit: InstanceExit | undefined;
  #adopted = false;
  #run: Run | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #spawning: Promise<void> | undefined;
  #backoff: RestartBackoff;
  #detached = false;
  #removed = false;
  #persisting: Promise<void> = Promise.resolve();
  #cpuSample: { cpuMs: number; at: number } | undefined;

  private constructor(
    spec: InstanceSpec,
    secretsKnown: boolean,
    private readonly ctx: InstanceContext,
  ) {
    this.#spec = spec;
    this.#secretsKnown = secretsKnown;
    this.#backoff = new RestartBackoff(spec.restart ?? DEFAULT_RESTART);
  }

  static create(spec: InstanceSpec, ctx: InstanceContext): ProcessInstance {
    return new ProcessInstance(spec, true, ctx);
  }

  /**
   * An instance found in the data directory by a new agent. `alive` says its recorded process
   * still runs (same pid, start time and boot); then it is watched again, else only reported.
   */
  static async fromRecord(record: InstanceRecord, alive: boolean, ctx: InstanceContext): Promise<ProcessInstance> {
    const instance = new ProcessInstance({ ...record.spec }, record.secretNames.length === 0, ctx);
    instance.#adopted = true;
    instance.#restarts = record.restarts;
    instance.#lastExit = record.lastExit;
    instance.#desired = record.desired;
    if (alive && record.run) {
      instance.#state = LIVE.includes(record.state) ? record.state : 'starting';
      const run = instance.#adoptRun(record.run, (await ctx.cgroup?.oomKills())?.count ?? 0);
      instance.#run = run;
      instance.#watch(run, record.state === 'ready');
      // the previous agent died while stopping it: finish the stop
      if (record.desired === 'stopped') void instance.stop();
    } else {
      // whatever is left in its cgroup is provably ours; its recorded pid may now be someone else's
      await ctx.cgroup?.kill();
      if (record.desired === 'stopped') instance.#state = 'stopped';
      else if (record.state === 'exited' || record.state === 'oom') instance.#state = record.state;
      else {
        instance.#state = 'exited';
        instance.#lastExit = { code: null, signal: null, oom: false, at: Date.now(), reason: 'exited while the agent was away' };
      }
      instance.#message = instance.#desired === 'running' ? 'not running; start it again to restart' : undefined;
    }
    return instance;
  }

  get id(): string {
    return this.#spec.id;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  status(): InstanceStatus {
    const spec = this.#spec;
    return {
      id: spec.id,
      service: spec.service,
      release: spec.release,
      replica: spec.replica,
      port: spec.port,
      state: this.#state,
      since: this.#since,
      ...(this.#run ? { pid: this.#run.pid } : {}),
      restarts: this.#restarts,
      ...(this.#lastExit ? { lastExit: this.#lastExit } : {}),
      ...(this.#message === undefined ? {} : { message: this.#message }),
      adopted: this.#adopted,
    };
  }

  /**
   * Makes the instance run with `spec` (which carries the secrets): starts it when it runs no
   * process and none is scheduled; otherwise only keeps the spec for the next restart.
   */
  async ensureRunning(spec: InstanceSpec): Promise<void> {
    this.#spec = spec;
    this.#secretsKnown = true;
    this.#desired = 'running';
    if (this.#spawning) return this.#spawning;
    if (this.#run || this.#restartTimer) return;
    this.#backoff.reset(spec.restart ?? DEFAULT_RESTART);
    await this.#spawn();
  }

  /** The stop signal to the process group, SIGKILL after `grace` ms; resolves when every process is gone. */
  async stop(grace = (this.#spec.stop ?? DEFAULT_STOP).grace): Promise<void> {
    this.#desired = 'stopped';
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const run = this.#run;
    if (run === undefined) {
      if (this.#state !== 'stopped') this.#set('stopped', undefined);
      return this.#persisting;
    }
    await this.#terminate(run, grace);
    await run.ended;
    await this.#persisting;
  }

  /** Forgets the instance: its cgroup and directory (record and logs). Call after stop. */
  async remove(): Promise<void> {
    this.#removed = true;
    this.detach();
    await this.#persisting;
    await this.ctx.cgroup?.remove();
    await removeInstanceDir(this.ctx.dir);
  }

  /** Stops watching; the process keeps running for the next agent to adopt. */
  detach(): void {
    this.#detached = true;
    clearTimeout(this.#restartTimer);
    this.#run?.health?.stop();
    this.#run?.stopWatching();
  }

  settled(): Promise<void> {
    return this.#persisting;
  }

  async stats(table?: readonly ProcStat[]): Promise<InstanceStats | undefined> {
    const run = this.#run;
    if (run === undefined) return undefined;
    const members = await this.#members(run, table);
    const at = Date.now();
    const cpuMs = members.reduce((sum, p) => sum + p.cpuMs, 0);
    const previous = this.#cpuSample ?? { cpuMs: 0, at: run.startedAt };
    // a child that exited takes its CPU time with it, so the sum can drop: clamp at zero
    const cpuMillicores = at > previous.at ? Math.max(0, Math.round(((cpuMs - previous.cpuMs) / (at - previous.at)) * 1000)) : 0;
    this.#cpuSample = { cpuMs, at };
    return { id: this.id, rssBytes: members.reduce((sum, p) => sum + p.rssBytes, 0), cpuMs, cpuMillicores, processes: members.length, at };
  }

  /** The RSS watch, where no cgroup caps memory: kills the run over its cap and reports it as OOM. */
  async enforceMemory(table: readonly ProcStat[]): Promise<void> {
    const run = this.#run;
    const cap = this.#spec.resources.memory;
    if (run === undefined || cap <= 0 || run.killedFor) return;
    const rss = (await this.#members(run, table)).reduce((sum, p) => sum + p.rssBytes, 0);
    if (rss <= cap || this.#run !== run) return;
    run.killedFor = { reason: `RSS ${rss} bytes passed the memory cap of ${cap}`, oom: true };
    this.#signal(run, 'SIGKILL');
  }

  /** The run's processes: its cgroup's (which a process cannot leave by starting a new group), else its process group's. */
  async #members(run: Run, table?: readonly ProcStat[]): Promise<ProcStat[]> {
    if (this.ctx.cgroup) {
      const stats = await Promise.all((await this.ctx.cgroup.pids()).map((pid) => readProcStat(pid)));
      return stats.filter((s): s is ProcStat => s !== undefined && s.state !== 'Z');
    }
    return (table ?? (await readProcessTable())).filter((p) => p.pgid === run.pid);
  }

  /** One spawn at a time: two start() calls racing must not start two processes. */
  #spawn(): Promise<void> {
    this.#spawning ??= this.#launch().finally(() => (this.#spawning = undefined));
    return this.#spawning;
  }

  async #launch(): Promise<void> {
    this.#restartTimer = undefined;
    if (this.#detached) return;
    const spec = this.#spec;
    const oomBaseline = (await this.ctx.cgroup?.oomKills())?.count ?? 0;
    // stopped (or let go) while we read the baseline
    if (this.#desired === 'stopped' || this.#detached) return;
    const fd = this.ctx.log.openForChild();
    let child: ChildProcess;
    try {
      child = launch(spec, instanceEnv(spec), fd, this.ctx.cgroup?.procsFiles ?? []);
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    // the agent may exit (or crash) without waiting for its instances: they outlive it
    child.unref();
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        if (child.pid === undefined) resolve({ code: null, signal: null, reason: `could not spawn: ${error.message}` });
      });
    });
    const pid = child.pid;
    // read before yielding to the event loop: until libuv reaps it, the pid is surely this child
    const stat = pid === undefined ? undefined : readStatNow(pid);
    const run: Run = {
      pid: pid ?? -1,
      startTime: stat?.startTime ?? -1,
      startedAt: Date.now(),
      child,
      exited,
      oomBaseline,
      stopWatching: () => child.removeAllListeners(),
    };
    this.#run = run;
    this.#cpuSample = undefined;
    this.#adopted = false;
    this.#set('starting', undefined);
    this.#watch(run, false);
    // the record names the new pid before start() returns: an agent crash from here on loses nothing
    await this.#persisting;
  }

  #adoptRun(recorded: RecordedRun, oomBaseline: number): Run {
    const abort = new AbortController();
    const exited = (async (): Promise<ExitInfo> => {
      while (await isSameProcess(recorded.pid, recorded.startTime)) await sleep(this.ctx.exitPoll, undefined, { signal: abort.signal });
      return { code: null, signal: null, reason: 'exit status unknown: the process was adopted, not spawned, by this agent' };
    })();
    exited.catch(() => undefined); // rejects only when aborted on detach
    return { pid: recorded.pid, startTime: recorded.startTime, startedAt: recorded.startedAt, exited, oomBaseline, stopWatching: () => abort.abort() };
  }

  /** Handles the exit of `run` (the current one) and runs its probes. */
  #watch(run: Run, resumeReady: boolean): void {
    run.ended = run.exited.then(
      (info) => this.#ended(run, info),
      () => undefined,
    );
    const health = this.#spec.health;
    if (health === undefined || (health.ready === undefined && health.live === undefined)) {
      if (this.#state === 'starting') this.#set('ready', undefined);
      return;
    }
    const target = { host: '127.0.0.1', port: this.#spec.port, cwd: this.#spec.cwd, env: instanceEnv(this.#spec) };
    run.health = new HealthWatch(
      health,
      target,
      {
        ready: () => {
          if (this.#run === run) this.#set('ready', undefined);
        },
        unhealthy: (detail) => {
          if (this.#run === run) this.#set('unhealthy', detail);
        },
        livenessFailed: (detail) => {
          if (this.#run !== run || run.killedFor) return;
          run.killedFor = { reason: detail, oom: false };
          this.#message = `${detail}; restarting`;
          void this.#terminate(run, (this.#spec.stop ?? DEFAULT_STOP).grace);
        },
      },
      { startingPoll: this.ctx.startingPoll, resumeReady },
    );
    run.health.start();
  }

  /** The stop signal, SIGKILL at the end of the grace period; resolves once the run has ended. */
  async #terminate(run: Run, grace: number): Promise<void> {
    run.graceEnds = Math.min(run.graceEnds ?? Infinity, Date.now() + grace);
    this.#signal(run, (this.#spec.stop ?? DEFAULT_STOP).signal);
    const escalate = setTimeout(() => {
      this.#signal(run, 'SIGKILL');
      void this.ctx.cgroup?.kill();
    }, grace);
    await run.ended;
    clearTimeout(escalate);
  }

  /** A signal to the run's whole process group (its pgid is the leader's pid). */
  #signal(run: Run, signal: NodeJS.Signals): void {
    if (run.pid <= 0) return;
    // an adopted leader is checked first: its pid may have been recycled since we last looked
    // (once it is gone, #ended kills what is left of its group when the grace period ends)
    if (run.child === undefined && !isSameProcessNow(run.pid, run.startTime)) return;
    try {
      process.kill(-run.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  async #ended(run: Run, info: ExitInfo): Promise<void> {
    if (this.#detached || this.#run !== run) return;
    run.health?.stop();
    // being stopped, the rest of the group may still be shutting down (the leader can be a shell
    // that died on the signal at once): it has until the end of the grace period
    if (run.graceEnds !== undefined) await this.#whileAnyLeft(run, run.graceEnds);
    // what the leader left behind goes too, so a restart never runs beside leftovers holding its port
    try {
      if (run.pid > 0) process.kill(-run.pid, 'SIGKILL');
    } catch {
      // no process left in the group
    }
    await this.ctx.cgroup?.kill();
    await this.#whileAnyLeft(run, Date.now() + 2_000);
    const kills = await this.ctx.cgroup?.oomKills();
    const oomKilled = kills !== undefined && kills.count > run.oomBaseline && (kills.exact || info.signal === 'SIGKILL');
    const reason = explain(run, info, oomKilled);
    const exit: InstanceExit = {
      code: info.code,
      signal: info.signal,
      oom: oomKilled || run.killedFor?.oom === true,
      at: Date.now(),
      ...(reason === undefined ? {} : { reason }),
    };
    this.#run = undefined;
    this.#lastExit = exit;
    if (this.#desired === 'stopped') {
      this.#set('stopped', undefined);
      return;
    }
    this.#set(exit.oom ? 'oom' : 'exited', exit.reason);
    if (!this.#restartWanted(exit, run)) return;
    if (!this.#secretsKnown) {
      this.#set(this.#state, 'waiting for the agent to hand this instance its secrets again, to restart it');
      return;
    }
    const delay = this.#backoff.next(Date.now() - run.startedAt);
    // `berth explain` shows it: whole seconds read better than a ms count (formatDuration takes whole ms)
    this.#set('restarting', `restarting in ${formatDuration(delay < 1_000 ? Math.round(delay) : Math.round(delay / 1_000) * 1_000)}`);
    this.#restartTimer = setTimeout(() => {
      this.#restarts++;
      void this.#spawn().catch((error: unknown) => this.#set('exited', `could not restart: ${String(error)}`));
    }, delay);
  }

  /** Waits until no process of the run is left (its cgroup, else its process group), or `until`. */
  async #whileAnyLeft(run: Run, until: number): Promise<void> {
    while (Date.now() < until && (await this.#members(run)).length > 0) await sleep(this.ctx.cgroup ? 10 : 25);
  }

  #restartWanted(exit: InstanceExit, run: Run): boolean {
    switch ((this.#spec.restart ?? DEFAULT_RESTART).when) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'on-failure':
        return exit.code !== 0 || exit.signal !== null || exit.oom || run.killedFor !== undefined;
    }
  }

  #set(state: InstanceState, message: string | undefined): void {
    if (this.#state !== state) this.#since = Date.now();
    this.#state = state;
    this.#message = message;
    this.#persist();
    this.ctx.changed(this.status());
  }

  #persist(): void {
    const record = this.#record();
    this.#persisting = this.#persisting
      .then(() => (this.#removed ? undefined : writeRecord(this.ctx.dir, record)))
      // a failed write costs adoption after an agent restart, not the running instance
      .catch(() => undefined);
  }

  #record(): InstanceRecord {
    const run = this.#run;
    return {
      version: 1,
      spec: withoutSecrets(this.#spec),
      secretNames: Object.keys(this.#spec.secrets ?? {}),
      desired: this.#desired,
      state: this.#state,
      ...(run && run.startTime >= 0 ? { run: { pid: run.pid, startTime: run.startTime, bootId: this.ctx.bootId, startedAt: run.startedAt } } : {}),
      ...(this.ctx.cgroup ? { cgroup: this.ctx.cgroup.paths } : {}),
      restarts: this.#restarts,
      ...(this.#lastExit ? { lastExit: this.#lastExit } : {}),
    };
  }
}

function explain(run: Run, info: ExitInfo, oomKilled: boolean): string | undefined {
  if (run.killedFor) return run.killedFor.reason;
  if (oomKilled) return 'killed by the kernel: memory cap reached';
  if (info.code === JOIN_FAILED) return 'the launcher could not join the instance cgroup (see its log)';
  return info.reason;
}

function readStatNow(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function isSameProcessNow(pid: number, startTime: number): boolean {
  const stat = readStatNow(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z';
}
