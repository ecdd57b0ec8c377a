// What this machine offers, as the agent reports it at enrollment: memory, cores, disk, and what
// its driver can enforce.
import { statfs } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import type { HostMachine } from '../domain/events.js';
import type { Driver } from './driver.js';

export async function probeHostMachine(dataDir: string, reservedMemory: number, driver: Driver): Promise<HostMachine> {
  const disk = await statfs(dataDir);
  const { driver: name, memoryEnforcement, ...capabilities } = driver.capabilities();
  return {
    physicalMemory: totalmem(),
    reservedMemory,
    cores: availableParallelism(),
    disk: disk.blocks * disk.bsize,
    driver: name,
    memoryEnforcement,
    capabilities,
  };
}
