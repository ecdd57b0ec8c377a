import { describe, expect, it } from 'vitest';
import { cpuShares, cpuWeight, ownDir, parentDir, parseMountinfo, parseProcCgroup } from './cgroup.js';

const MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '42 31 0:39 /nested /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
].join('\n');

const PROC_CGROUP = ['12:cpu,cpuacct:/', '4:memory:/system.slice/berth-agent.service', '0::/system.slice/berth-agent.service'].join('\n');

describe('cgroup discovery', () => {
  it('reads cgroup mounts and their controllers from mountinfo', () => {
    const mounts = parseMountinfo(MOUNTINFO).filter((m) => m.type.startsWith('cgroup'));
    expect(mounts.map((m) => [m.type, m.point, m.options.join(',')])).toEqual([
      ['cgroup', '/sys/fs/cgroup/cpu,cpuacct', 'rw,cpu,cpuacct'],
      ['cgroup', '/sys/fs/cgroup/memory', 'rw,memory'],
      ['cgroup2', '/sys/fs/cgroup/unified', 'rw,nsdelegate'],
    ]);
  });

  it('finds the agent own cgroup per controller, and the v2 one under the empty name', () => {
    const own = parseProcCgroup(PROC_CGROUP);
    expect(own.get('memory')).toBe('/system.slice/berth-agent.service');
    expect(own.get('cpuacct')).toBe('/');
    expect(own.get('')).toBe('/system.slice/berth-agent.service');
  });

  it('places instance cgroups beneath the agent own cgroup, or from the root when absolute', () => {
    const [, memory, unified] = parseMountinfo(MOUNTINFO).filter((m) => m.type.startsWith('cgroup'));
    expect(parentDir(memory!, '/system.slice/berth-agent.service', 'berth')).toBe('/sys/fs/cgroup/memory/system.slice/berth-agent.service/berth');
    expect(parentDir(memory!, '/system.slice/berth-agent.service', '/berth')).toBe('/sys/fs/cgroup/memory/berth');
    // a mount of a subtree: paths are relative to its root
    expect(ownDir(unified!, '/nested/agent')).toBe('/sys/fs/cgroup/unified/agent');
  });

  it('turns millicores into Kubernetes-compatible CPU weights', () => {
    expect(cpuShares(1000)).toBe(1024);
    expect(cpuShares(250)).toBe(256);
    expect(cpuShares(0)).toBe(2);
    expect(cpuWeight(0)).toBe(1);
    expect(cpuWeight(1000)).toBe(39);
    expect(cpuWeight(1_000_000)).toBe(10_000);
  });
});
