// Instance cgroups on cgroup v1: one directory per controller hierarchy (memory required, cpu
// and pids where mounted and writable).
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuShares, killProcs, parentDir, readProcs, removeDir, type CgroupLimits, type CgroupPaths, type Cgroups, type InstanceCgroup, type Mount } from './cgroup.js';

type V1Paths = Extract<CgroupPaths, { mode: 'cgroup-v1' }>;

export class CgroupV1 implements InstanceCgroup {
  constructor(readonly paths: V1Paths) {}

  get #dirs(): string[] {
    return [this.paths.memory, this.paths.cpu, this.paths.pids].filter((dir): dir is string => dir !== undefined);
  }

  get procsFiles(): string[] {
    return this.#dirs.map((dir) => join(dir, 'cgroup.procs'));
  }

  async apply(limits: CgroupLimits): Promise<void> {
    const memory = limits.memory > 0 ? String(limits.memory) : '-1';
    await writeFile(join(this.paths.memory, 'memory.limit_in_bytes'), memory);
    // memory+swap at the same value: the cap cannot be dodged by swapping (absent without swap accounting)
    await writeFile(join(this.paths.memory, 'memory.memsw.limit_in_bytes'), memory).catch(() => undefined);
    if (this.paths.cpu) await writeFile(join(this.paths.cpu, 'cpu.shares'), String(cpuShares(limits.cpu)));
    if (this.paths.pids) await writeFile(join(this.paths.pids, 'pids.max'), limits.pids === undefined ? 'max' : String(limits.pids));
  }

  async oomKills(): Promise<{ count: number; exact: boolean }> {
    const control = await readFile(join(this.paths.memory, 'memory.oom_control'), 'utf8').catch(() => '');
    const kills = /^oom_kill (\d+)$/m.exec(control);
    if (kills) return { count: Number(kills[1]), exact: true };
    // kernels before 4.13 do not count kills; the times the limit was hit stand in
    const failcnt = await readFile(join(this.paths.memory, 'memory.failcnt'), 'utf8').catch(() => '0');
    return { count: Number(failcnt.trim()), exact: false };
  }

  pids(): Promise<number[]> {
    return readProcs(join(this.paths.memory, 'cgroup.procs'));
  }

  async kill(): Promise<void> {
    for (const file of this.procsFiles) await killProcs(file);
  }

  async remove(): Promise<void> {
    for (const dir of this.#dirs) await removeDir(dir);
  }
}

/** v1 where the memory hierarchy is mounted and we may create cgroups in it; undefined otherwise. */
export async function cgroupsV1(mounts: readonly Mount[], own: ReadonlyMap<string, string>, parent: string): Promise<Cgroups | undefined> {
  const parentOf = async (controller: string, probe: string): Promise<string | undefined> => {
    const mount = mounts.find((m) => m.type === 'cgroup' && m.options.includes(controller));
    if (mount === undefined) return undefined;
    const dir = parentDir(mount, own.get(controller) ?? '/', parent);
    try {
      await mkdir(dir, { recursive: true });
      await access(join(dir, probe));
      return dir;
    } catch {
      return undefined;
    }
  };
  const memory = await parentOf('memory', 'memory.limit_in_bytes');
  if (memory === undefined) return undefined;
  const cpu = await parentOf('cpu', 'cpu.shares');
  const pids = await parentOf('pids', 'pids.max');
  return {
    mode: 'cgroup-v1',
    cpuWeight: cpu !== undefined,
    pidsLimit: pids !== undefined,
    async create(id) {
      const paths: V1Paths = {
        mode: 'cgroup-v1',
        memory: join(memory, id),
        ...(cpu === undefined ? {} : { cpu: join(cpu, id) }),
        ...(pids === undefined ? {} : { pids: join(pids, id) }),
      };
      const cgroup = new CgroupV1(paths);
      for (const dir of [paths.memory, paths.cpu, paths.pids]) if (dir !== undefined) await mkdir(dir, { recursive: true });
      return cgroup;
    },
  };
}
