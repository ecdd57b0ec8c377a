// Instance cgroups on the unified hierarchy (cgroup v2): one directory, with the memory, cpu and
// pids controllers enabled down to it.
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cpuWeight, killProcs, ownDir, readProcs, removeDir, type CgroupLimits, type CgroupPaths, type Cgroups, type InstanceCgroup, type Mount } from './cgroup.js';

type V2Paths = Extract<CgroupPaths, { mode: 'cgroup-v2' }>;

export class CgroupV2 implements InstanceCgroup {
  constructor(readonly paths: V2Paths) {}

  get procsFiles(): string[] {
    return [join(this.paths.dir, 'cgroup.procs')];
  }

  async apply(limits: CgroupLimits): Promise<void> {
    const dir = this.paths.dir;
    await writeFile(join(dir, 'memory.max'), limits.memory > 0 ? String(limits.memory) : 'max');
    // no swap, so the cap is hard; and an OOM kill takes the whole instance, not one of its processes
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
    await writeFile(join(dir, 'memory.oom.group'), '1').catch(() => undefined);
    await writeFile(join(dir, 'cpu.weight'), String(cpuWeight(limits.cpu))).catch(() => undefined);
    await writeFile(join(dir, 'pids.max'), limits.pids === undefined ? 'max' : String(limits.pids)).catch(() => undefined);
  }

  async oomKills(): Promise<{ count: number; exact: boolean }> {
    const events = await readFile(join(this.paths.dir, 'memory.events'), 'utf8').catch(() => '');
    return { count: Number(/^oom_kill (\d+)$/m.exec(events)?.[1] ?? 0), exact: true };
  }

  pids(): Promise<number[]> {
    return readProcs(join(this.paths.dir, 'cgroup.procs'));
  }

  async kill(): Promise<void> {
    // cgroup.kill (Linux 5.14) kills atomically, forks in flight included
    const killed = await writeFile(join(this.paths.dir, 'cgroup.kill'), '1').then(
      () => true,
      () => false,
    );
    if (!killed) await killProcs(join(this.paths.dir, 'cgroup.procs'));
  }

  remove(): Promise<void> {
    return removeDir(this.paths.dir);
  }
}

const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

/**
 * v2 where the agent's cgroup offers the memory controller and we can delegate it down to the
 * instances' parent. Enabling it fails (EBUSY) when the agent's own cgroup holds processes
 * (v2's no-internal-processes rule), as on a v2 host the agent should run in a leaf under a
 * delegated unit; then v1 or none is used instead.
 */
export async function cgroupsV2(mounts: readonly Mount[], own: ReadonlyMap<string, string>, parent: string): Promise<Cgroups | undefined> {
  const mount = mounts.find((m) => m.type === 'cgroup2');
  if (mount === undefined) return undefined;
  const base = parent.startsWith('/') ? mount.point : ownDir(mount, own.get('') ?? '/');
  const target = parent.startsWith('/') ? join(mount.point, parent) : join(base, parent);
  try {
    const available = (await readFile(join(base, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
    if (!available.includes('memory')) return undefined;
    const wanted = CONTROLLERS.filter((c) => available.includes(c));
    // enable the controllers at every level from base down to the instances' parent
    let dir = base;
    for (const segment of ['', ...relative(base, target).split('/').filter(Boolean)]) {
      dir = join(dir, segment);
      await mkdir(dir, { recursive: true });
      await enable(dir, wanted);
    }
    await access(join(target, 'cgroup.subtree_control'));
    return {
      mode: 'cgroup-v2',
      cpuWeight: wanted.includes('cpu'),
      pidsLimit: wanted.includes('pids'),
      async create(id) {
        const paths: V2Paths = { mode: 'cgroup-v2', dir: join(target, id) };
        await mkdir(paths.dir, { recursive: true });
        return new CgroupV2(paths);
      },
    };
  } catch {
    return undefined;
  }
}

async function enable(dir: string, controllers: readonly string[]): Promise<void> {
  const enabled = (await readFile(join(dir, 'cgroup.subtree_control'), 'utf8')).trim().split(/\s+/);
  const missing = controllers.filter((c) => !enabled.includes(c));
  if (missing.length > 0) await writeFile(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
}
