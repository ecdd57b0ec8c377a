// Host memory, CPU and disk as heartbeats report them. CPU is the busy share of every core
// since the previous sample, in millicores; memory "used" is what is not available to new work
// (MemAvailable counts reclaimable page cache as free, as the kernel would).
import { readFile, statfs } from 'node:fs/promises';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import type { HostUsage } from '../api/protocol/agent-protocol.js';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

async function availableMemory(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kib = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return kib === undefined ? freemem() : Number(kib) * 1024;
}

export class HostUsageMeter {
  #last = cpuTimes();

  constructor(private readonly dataDir: string) {}

  async sample(): Promise<HostUsage> {
    const now = cpuTimes();
    const cores = availableParallelism();
    const total = now.total - this.#last.total;
    const millicores = total > 0 ? Math.round(((now.busy - this.#last.busy) / total) * cores * 1000) : 0;
    this.#last = now;
    const memoryTotal = totalmem();
    const disk = await statfs(this.dataDir).catch(() => undefined);
    return {
      memory: { total: memoryTotal, used: Math.max(0, memoryTotal - (await availableMemory())) },
      cpu: { cores, millicores: Math.max(0, millicores) },
      ...(disk ? { disk: { total: disk.blocks * disk.bsize, free: disk.bavail * disk.bsize } } : {}),
    };
  }
}
