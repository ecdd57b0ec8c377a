// `npm run bench:agent`: what the process driver adds to starting the example app
// (examples/hello/server.js), and the memory of the process that drives instances.
// Each of the N starts is paired with a start of the same command without berth, timed to its
// own "listening" line: overhead = (driver.start → ready, i.e. first successful probe) − that.
// Prints one JSON object.
//   --quick   10 starts and 10 instances instead of 50
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { removeParent } from '../src/agent/cgroup.js';
import type { Driver, InstanceStatus } from '../src/agent/driver.js';
import { ProcessDriver } from '../src/agent/drivers/process/process-driver.js';
import type { InstanceSpec } from '../src/agent/instance-spec.js';
import { PortAllocator } from '../src/agent/port-allocator.js';
import { ownStart, summary } from './app-start.js';

const quick = process.argv.includes('--quick');
const N = quick ? 10 : 50;

function exampleDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'examples/hello/server.js'))) return join(dir, 'examples/hello');
  }
  throw new Error('examples/hello/server.js not found above this script; run it from the berth checkout');
}


/** Memory once the garbage of the starts is collected (run with --expose-gc), as a long-running agent would sit. */
async function settledMemory(): Promise<{ rss: number; heap: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: Math.round(rss / 2 ** 20), heap: Math.round(heapUsed / 2 ** 20) };
}

function ready(driver: Driver, id: string): Promise<InstanceStatus> {
  return new Promise((resolve, reject) => {
    const check = (s: InstanceStatus | undefined) => {
      if (s?.id !== id) return;
      if (s.state === 'ready') {
        unwatch();
        resolve(s);
      } else if (s.state === 'exited' || s.state === 'oom') {
        unwatch();
        reject(new Error(`${id} ${s.state}: ${s.message ?? ''}`));
      }
    };
    const unwatch = driver.watch(check);
    check(driver.get(id));
  });
}

async function main(): Promise<void> {
  const cwd = exampleDir();
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-bench-agent-'));
  const ports = new PortAllocator();
  const cgroupParent = `berth-bench-${process.pid}`;
  const driver = await ProcessDriver.open({ dataDir, cgroupParent });
  const spec = async (i: number): Promise<InstanceSpec> => ({
    id: `hello-${i}`,
    service: 'hello',
    release: 'bench',
    replica: i,
    command: 'node server.js',
    cwd,
    port: await ports.allocate(),
    resources: { memory: 256 * 2 ** 20, cpu: 100 },
    stop: { signal: 'SIGTERM', grace: 2_000 },
    health: { ready: { type: 'http', path: '/healthz', interval: 10_000, timeout: 2_000, failures: 3, initialDelay: 0 } },
  });
  try {
    const own: number[] = [];
    const toReady: number[] = [];
    const overhead: number[] = [];
    for (let i = 0; i < N; i++) {
      const port = await ports.allocate();
      const app = await ownStart(cwd, port);
      ports.release(port);
      const s = await spec(i);
      const begun = performance.now();
      await driver.start(s);
      await ready(driver, s.id);
      const took = performance.now() - begun;
      own.push(app);
      toReady.push(took);
      overhead.push(took - app);
      await driver.remove(s.id);
      ports.release(s.port);
    }

    const idle = await settledMemory();
    const specs = await Promise.all(Array.from({ length: N }, (_, i) => spec(N + i)));
    await Promise.all(specs.map(async (s) => (await driver.start(s), ready(driver, s.id))));
    // a heartbeat's worth of work: stats of every instance
    const stats = await Promise.all(specs.map((s) => driver.stats(s.id)));
    const loaded = await settledMemory();
    const instancesRss = stats.reduce((sum, s) => sum + (s?.rssBytes ?? 0), 0);
    for (const s of specs) await driver.remove(s.id);

    console.log(
      JSON.stringify({
        bench: 'agent',
        driver: 'process',
        memory_enforcement: driver.capabilities().memoryEnforcement,
        starts: N,
        app_own_start_ms: summary(own),
        start_to_ready_ms: summary(toReady),
        driver_overhead_ms: summary(overhead),
        aim_overhead_p99_ms: 50,
        // the process running the driver (the agent's stand-in): most of its RSS is Node itself
        driver_process_rss_mib: { idle: idle.rss, [`with_${N}_instances`]: loaded.rss },
        driver_process_heap_mib: { idle: idle.heap, [`with_${N}_instances`]: loaded.heap },
        aim_rss_mib_with_50: 80,
        instances_rss_mib: Math.round(instancesRss / 2 ** 20),
      }),
    );
  } finally {
    for (const s of driver.list()) await driver.remove(s.id);
    await driver.close();
    await removeParent(cgroupParent);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
