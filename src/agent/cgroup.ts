// Memory caps, CPU weights and pids limits for instances through Linux cgroups: v2 where the
// unified hierarchy offers the memory controller to us, else v1, else none (the driver then
// watches RSS itself). Instance cgroups go under `parent`: relative, it is placed beneath the
// agent's own cgroup, so instances stay inside the envelope whoever runs the agent gave it
// (and, on systemd with Delegate=yes, inside the only subtree the agent may write); absolute,
// it is taken from each hierarchy's root.
import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MemoryEnforcement } from './driver.js';

export interface CgroupLimits {
  /** bytes; 0 for no cap */
  readonly memory: number;
  /** millicores, turned into a relative weight (CPU is oversubscribed, never capped) */
  readonly cpu: number;
  readonly pids?: number;
}

/** Where an instance's cgroup lives, recorded so a restarted agent reopens the same one. */
export type CgroupPaths =
  | { readonly mode: 'cgroup-v1'; readonly memory: string; readonly cpu?: string; readonly pids?: string }
  | { readonly mode: 'cgroup-v2'; readonly dir: string };

export interface InstanceCgroup {
  readonly paths: CgroupPaths;
  /** cgroup.procs files the instance's launcher writes its pid to before it runs the command */
  readonly procsFiles: readonly string[];
  apply(limits: CgroupLimits): Promise<void>;
  /** OOM kills counted by the kernel; `exact: false` on old v1 kernels, where the limit hits (failcnt) stand in */
  oomKills(): Promise<{ count: number; exact: boolean }>;
  /** pids of every process in the cgroup */
  pids(): Promise<number[]>;
  /** SIGKILL to every process in the cgroup, including those that left the process group */
  kill(): Promise<void>;
  /** rmdir, once empty */
  remove(): Promise<void>;
}

export interface Cgroups {
  readonly mode: Exclude<MemoryEnforcement, 'none'>;
  readonly cpuWeight: boolean;
  readonly pidsLimit: boolean;
  create(id: string): Promise<InstanceCgroup>;
}

export interface Mount {
  readonly root: string;
  readonly point: string;
  readonly type: string;
  readonly options: readonly string[];
}

/** /proc/self/mountinfo: `id parent dev root point opts [tags] - type source superopts`. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [type = '', , superOptions = ''] = right.split(' ');
    mounts.push({ root: unescape(fields[3] ?? '/'), point: unescape(fields[4] ?? ''), type, options: superOptions.split(',') });
  }
  return mounts;
}

const unescape = (path: string) => path.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** /proc/self/cgroup: `id:controllers:path`; v2 is the line with id 0 and no controllers. */
export function parseProcCgroup(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllers = '', path = '/'] = match;
    if (id === '0' && controllers === '') own.set('', path);
    else for (const controller of controllers.split(',')) own.set(controller, path);
  }
  return own;
}

/** The directory of the agent's own cgroup in a hierarchy mounted at `mount`. */
export function ownDir(mount: Mount, ownPath: string): string {
  const relative = mount.root === '/' ? ownPath : ownPath.startsWith(mount.root) ? ownPath.slice(mount.root.length) : '/';
  return join(mount.point, relative);
}

export async function readHostCgroups(): Promise<{ mounts: Mount[]; own: Map<string, string> }> {
  const [mountinfo, cgroup] = await Promise.all([
    readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
    readFile('/proc/self/cgroup', 'utf8').catch(() => ''),
  ]);
  return { mounts: parseMountinfo(mountinfo), own: parseProcCgroup(cgroup) };
}

/** The parent directory for instance cgroups in one hierarchy. */
export function parentDir(mount: Mount, ownPath: string, parent: string): string {
  return parent.startsWith('/') ? join(mount.point, parent) : join(ownDir(mount, ownPath), parent);
}

/** cpu.shares (v1) for millicores, as Kubernetes converts: 1024 per core, at least 2. */
export const cpuShares = (millicores: number): number => Math.max(2, Math.round((millicores * 1024) / 1000));

/** cpu.weight (v2) from shares, Kubernetes' mapping of [2, 262144] onto [1, 10000]. */
export const cpuWeight = (millicores: number): number =>
  Math.min(10_000, 1 + Math.floor(((cpuShares(millicores) - 2) * 9_999) / 262_142));

export async function readProcs(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/** SIGKILL to each process listed in `file`, a few rounds, since a dying process may still fork. */
export async function killProcs(file: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const pids = await readProcs(file);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await sleep(10);
  }
}

/** rmdir of a cgroup; the kernel answers EBUSY until its last process has been reaped. */
export async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 100) throw error;
      await sleep(20);
    }
  }
}

/** Removes the instances' parent cgroup in every hierarchy, where it is empty (a host leaving berth, tests). */
export async function removeParent(parent: string): Promise<void> {
  const { mounts, own } = await readHostCgroups();
  for (const mount of mounts) {
    const controller = mount.type === 'cgroup2' ? '' : ['memory', 'cpu', 'pids'].find((c) => mount.type === 'cgroup' && mount.options.includes(c));
    if (controller === undefined) continue;
    await rmdir(parentDir(mount, own.get(controller) ?? '/', parent)).catch(() => undefined);
  }
}
