// The default driver: each instance is a process group on this host, capped by a cgroup where
// the host allows, outliving the agent and adopted again by the next one.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import type { AdoptionReport, Driver, DriverCapabilities, InstanceLogs, InstanceStats, InstanceStatus } from '../../driver.js';
import type { Cgroups } from '../../cgroup.js';
import { detectCgroups, openCgroup, type EnforcementPreference } from '../../cgroup-detect.js';
import { DEFAULT_LOG_ROTATION, InstanceLog, type LogRotation } from '../../instance-log.js';
import { validateInstanceSpec, type InstanceSpec } from '../../instance-spec.js';
import { isSameProcess, readBootId, readProcessTable, type ProcStat } from '../../proc-stat.js';
import { lockDataDir } from '../../data-dir-lock.js';
import { instanceDir, readRecord, recordedIds } from './instance-record.js';
import { ProcessInstance, type InstanceContext } from './process-instance.js';

export interface ProcessDriverOptions {
  /** the agent's data directory; instances live in `<dataDir>/instances/<id>/` */
  readonly dataDir: string;
  /** auto takes cgroup v2, else v1, else none (RSS watch) */
  readonly memoryEnforcement?: EnforcementPreference;
  /** where instance cgroups go: relative, beneath the agent's own cgroup; absolute, from the hierarchy root */
  readonly cgroupParent?: string;
  readonly logRotation?: LogRotation;
  /** ms between log size checks */
  readonly logCheckInterval?: number;
  /** ms between RSS checks when no cgroup caps memory */
  readonly rssWatchInterval?: number;
  /** ms between checks that an adopted process still lives */
  readonly exitPollInterval?: number;
  /** ms between readiness probes while an instance starts */
  readonly startingPoll?: number;
}

export class ProcessDriver implements Driver {
  readonly #instances = new Map<string, ProcessInstance>();
  readonly #pending = new Map<string, Promise<InstanceStatus>>();
  readonly #listeners = new Set<(status: InstanceStatus) => void>();
  readonly #timers: NodeJS.Timeout[] = [];
  #adoption: AdoptionReport = { adopted: [], exited: [], unreadable: [] };
  #unlock: () => Promise<void> = async () => {};
  #table: { at: number; table: Promise<ProcStat[]> } | undefined;

  private constructor(
    private readonly options: Required<Omit<ProcessDriverOptions, 'memoryEnforcement'>>,
    private readonly cgroups: Cgroups | undefined,
    private readonly bootId: string,
  ) {}

  /** Detects the memory enforcement mode, then adopts what the previous agent left running. */
  static async open(options: ProcessDriverOptions): Promise<ProcessDriver> {
    const cgroups = await detectCgroups(options.cgroupParent ?? 'berth', options.memoryEnforcement ?? 'auto');
    const driver = new ProcessDriver(
      {
        dataDir: options.dataDir,
        cgroupParent: options.cgroupParent ?? 'berth',
        logRotation: options.logRotation ?? DEFAULT_LOG_ROTATION,
        logCheckInterval: options.logCheckInterval ?? 1_000,
        rssWatchInterval: options.rssWatchInterval ?? 500,
        exitPollInterval: options.exitPollInterval ?? 200,
        startingPoll: options.startingPoll ?? 10,
      },
      cgroups,
      await readBootId(),
    );
    await mkdir(join(options.dataDir, 'instances'), { recursive: true, mode: 0o700 });
    driver.#unlock = await lockDataDir(options.dataDir);
    driver.#adoption = await driver.#adopt();
    driver.#every(driver.options.logCheckInterval, () => driver.#rotateLogs());
    if (cgroups === undefined) driver.#every(driver.options.rssWatchInterval, () => driver.#watchMemory());
    return driver;
  }

  get adoption(): AdoptionReport {
    return this.#adoption;
  }

  capabilities(): DriverCapabilities {
    return {
      driver: 'process',
      memoryEnforcement: this.cgroups?.mode ?? 'none',
      rssWatch: this.cgroups === undefined,
      cpuWeight: this.cgroups?.cpuWeight ?? false,
      pidsLimit: this.cgroups?.pidsLimit ?? false,
      adoption: true,
    };
  }

  start(spec: InstanceSpec): Promise<InstanceStatus> {
    const pending = this.#pending.get(spec.id);
    if (pending) return pending;
    const starting = Promise.resolve()
      .then(() => validateInstanceSpec(spec))
      .then(() => this.#start(spec))
      .finally(() => this.#pending.delete(spec.id));
    this.#pending.set(spec.id, starting);
    return starting;
  }

  async #start(spec: InstanceSpec): Promise<InstanceStatus> {
    const existing = this.#instances.get(spec.id);
    if (existing) {
      await existing.ensureRunning(spec);
      return existing.status();
    }
    const cwd = await stat(spec.cwd).catch(() => undefined);
    if (!cwd?.isDirectory()) throw new ValidationError(`instance ${JSON.stringify(spec.id)} cwd: "${spec.cwd}" is not a directory; unpack the release there first`, { field: 'cwd' });
    const dir = instanceDir(this.options.dataDir, spec.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const cgroup = await this.cgroups?.create(spec.id);
    await cgroup?.apply({ memory: spec.resources.memory, cpu: spec.resources.cpu, ...(spec.pids === undefined ? {} : { pids: spec.pids }) });
    const instance = ProcessInstance.create(spec, this.#context(dir, cgroup));
    this.#instances.set(spec.id, instance);
    await instance.ensureRunning(spec);
    return instance.status();
  }

  async stop(id: string, grace?: number): Promise<InstanceStatus> {
    const instance = this.#instance(id);
    await instance.stop(grace);
    return instance.status();
  }

  async remove(id: string): Promise<void> {
    const instance = this.#instance(id);
    if (instance.running) await instance.stop();
    await instance.remove();
    this.#instances.delete(id);
  }

  list(): InstanceStatus[] {
    return [...this.#instances.values()].map((i) => i.status());
  }

  get(id: string): InstanceStatus | undefined {
    return this.#instances.get(id)?.status();
  }

  async stats(id: string): Promise<InstanceStats | undefined> {
    const instance = this.#instance(id);
    return instance.stats(this.cgroups ? undefined : await this.#processTable());
  }

  logs(id: string): InstanceLogs {
    this.#instance(id);
    return this.#log(instanceDir(this.options.dataDir, id));
  }

  watch(listener: (status: InstanceStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await Promise.allSettled(this.#pending.values());
    for (const instance of this.#instances.values()) instance.detach();
    await Promise.all([...this.#instances.values()].map((i) => i.settled()));
    this.#listeners.clear();
    await this.#unlock();
  }

  #instance(id: string): ProcessInstance {
    const instance = this.#instances.get(id);
    if (instance === undefined) throw new NotFoundError(`instance ${JSON.stringify(id)} is not on this host`, { id });
    return instance;
  }

  #log(dir: string): InstanceLog {
    return new InstanceLog(join(dir, 'output.log'), this.options.logRotation);
  }

  #context(dir: string, cgroup: InstanceContext['cgroup']): InstanceContext {
    return {
      dir,
      log: this.#log(dir),
      ...(cgroup === undefined ? {} : { cgroup }),
      bootId: this.bootId,
      startingPoll: this.options.startingPoll,
      exitPoll: this.options.exitPollInterval,
      changed: (status) => {
        for (const listener of this.#listeners) listener(status);
      },
    };
  }

  /** Re-adopts every recorded instance whose process still runs: same pid, start time and boot. Starts nothing. */
  async #adopt(): Promise<AdoptionReport> {
    const adopted: string[] = [];
    const exited: string[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const id of await recordedIds(this.options.dataDir)) {
      const dir = instanceDir(this.options.dataDir, id);
      try {
        const record = await readRecord(dir);
        const run = record.run;
        const alive = run !== undefined && run.bootId === this.bootId && (await isSameProcess(run.pid, run.startTime));
        const cgroup = record.cgroup === undefined ? undefined : openCgroup(record.cgroup);
        this.#instances.set(id, await ProcessInstance.fromRecord(record, alive, this.#context(dir, cgroup)));
        (alive ? adopted : exited).push(id);
      } catch (error) {
        unreadable.push({ id, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { adopted, exited, unreadable };
  }

  async #rotateLogs(): Promise<void> {
    for (const instance of this.#instances.values()) {
      if (instance.running) await this.#log(instanceDir(this.options.dataDir, instance.id)).rotate().catch(() => undefined);
    }
  }

  async #watchMemory(): Promise<void> {
    const table = await this.#processTable();
    await Promise.all([...this.#instances.values()].map((i) => i.enforceMemory(table)));
  }

  /** One scan of /proc shared by every instance asking within 100 ms (stats of 50 instances for a heartbeat). */
  #processTable(): Promise<ProcStat[]> {
    const now = Date.now();
    if (this.#table === undefined || now - this.#table.at > 100) this.#table = { at: now, table: readProcessTable() };
    return this.#table.table;
  }

  /** A periodic task that never overlaps itself; like a server, the driver holds the process open until close(). */
  #every(ms: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void task()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, ms);
    this.#timers.push(timer);
  }
}
