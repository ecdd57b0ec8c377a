// The agent under benchmark, in its own process so its RSS is the agent's alone (the control
// plane and its embedded database stay in the parent). Reports over IPC, on its own clock:
// when each instance's assignment arrived, and when the driver saw it starting and ready.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Agent } from '../src/agent/agent.js';
import { removeParent } from '../src/agent/cgroup.js';
import { ProcessDriver } from '../src/agent/drivers/process/process-driver.js';

type Command = { type: 'memory' } | { type: 'shutdown' };

const send = (message: object) => process.send?.(message);
const { BENCH_URL = '', BENCH_TOKEN = '', BENCH_DATA = '' } = process.env;
const cgroupParent = `berth-bench-agent-${process.pid}`;

const driver = await ProcessDriver.open({ dataDir: BENCH_DATA, cgroupParent });
const seen = new Set<string>();
driver.watch((status) => {
  if (status.state === 'starting' || status.state === 'ready' || status.state === 'stopped') send({ type: status.state, id: status.id, at: performance.now(), since: status.since });
});
const agent = await Agent.start({
  controlPlane: BENCH_URL,
  joinToken: BENCH_TOKEN,
  dataDir: BENCH_DATA,
  driver,
  log: pino({ level: 'warn' }),
  heartbeatInterval: 2_000,
  removeStoppedAfter: 0,
  resyncInterval: 1_000,
  onAssignments(set) {
    const at = performance.now();
    for (const a of set.instances) {
      if (seen.has(a.instance)) continue;
      seen.add(a.instance);
      send({ type: 'assigned', id: a.instance, at });
    }
  },
});
send({ type: 'enrolled', hostId: agent.hostId, memoryEnforcement: driver.capabilities().memoryEnforcement });

/** Memory only this process holds (RSS less the pages of the node binary and libraries it shares). */
async function privateMemory(): Promise<number> {
  const rollup = await readFile('/proc/self/smaps_rollup', 'utf8').catch(() => '');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return (kib('Private_Clean') + kib('Private_Dirty')) * 1024;
}

process.on('message', (command: Command) => {
  void (async () => {
    if (command.type === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3; i++) {
        gc?.();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { rss, heapUsed } = process.memoryUsage();
      send({ type: 'memory', rss, heap: heapUsed, private: await privateMemory(), instances: driver.list().length });
    } else {
      await agent.close();
      for (const s of driver.list()) await driver.remove(s.id).catch(() => undefined);
      await driver.close();
      await removeParent(cgroupParent).catch(() => undefined);
      send({ type: 'closed' });
      process.disconnect();
    }
  })();
});
