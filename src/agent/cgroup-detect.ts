// Picks how instances' memory is enforced on this host: cgroup v2, else v1, else none.
import type { MemoryEnforcement } from './driver.js';
import { readHostCgroups, type CgroupPaths, type Cgroups, type InstanceCgroup } from './cgroup.js';
import { CgroupV1, cgroupsV1 } from './cgroup-v1.js';
import { CgroupV2, cgroupsV2 } from './cgroup-v2.js';

/** auto: the best the host allows; a mode: that one or an error saying why not. */
export type EnforcementPreference = 'auto' | MemoryEnforcement;

export async function detectCgroups(parent: string, prefer: EnforcementPreference = 'auto'): Promise<Cgroups | undefined> {
  if (prefer === 'none') return undefined;
  const { mounts, own } = await readHostCgroups();
  const found =
    (prefer === 'cgroup-v1' ? undefined : await cgroupsV2(mounts, own, parent)) ??
    (prefer === 'cgroup-v2' ? undefined : await cgroupsV1(mounts, own, parent));
  if (found === undefined && prefer !== 'auto') {
    throw new Error(
      `memory enforcement ${prefer} is not available: ${prefer === 'cgroup-v2' ? 'the unified hierarchy offers no memory controller we can delegate' : 'no writable v1 memory hierarchy is mounted'}; use auto to take the best the host allows`,
    );
  }
  return found;
}

/** Reopens a recorded cgroup (adoption after an agent restart). */
export function openCgroup(paths: CgroupPaths): InstanceCgroup {
  return paths.mode === 'cgroup-v1' ? new CgroupV1(paths) : new CgroupV2(paths);
}
