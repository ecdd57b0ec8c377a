// Against the host's real cgroups; skipped, with the reason printed, where they are not writable.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeParent } from './cgroup.js';
import { detectCgroups } from './cgroup-detect.js';

const parent = `berth-cgroup-test-${process.pid}`;
const cgroups = await detectCgroups(parent);
if (cgroups === undefined) console.log('cgroup tests skipped: no writable cgroup v2 memory controller nor v1 memory hierarchy on this host');

describe.skipIf(cgroups === undefined)(`instance cgroups (${cgroups?.mode ?? 'none'})`, () => {
  afterAll(() => removeParent(parent));

  it('writes the memory cap, CPU weight and pids limit, and counts no OOM kill yet', async () => {
    const cgroup = await cgroups!.create('limits');
    try {
      await cgroup.apply({ memory: 64 * 2 ** 20, cpu: 500, pids: 10 });
      const paths = cgroup.paths;
      const read = (dir: string | undefined, file: string) => readFile(join(dir!, file), 'utf8').then((t) => t.trim());
      if (paths.mode === 'cgroup-v1') {
        expect(await read(paths.memory, 'memory.limit_in_bytes')).toBe(String(64 * 2 ** 20));
        if (paths.cpu) expect(await read(paths.cpu, 'cpu.shares')).toBe('512');
        if (paths.pids) expect(await read(paths.pids, 'pids.max')).toBe('10');
      } else {
        expect(await read(paths.dir, 'memory.max')).toBe(String(64 * 2 ** 20));
        expect(await read(paths.dir, 'pids.max')).toBe('10');
      }
      expect((await cgroup.oomKills()).count).toBe(0);
      expect(await cgroup.pids()).toEqual([]);
    } finally {
      await cgroup.remove();
    }
  });
});
