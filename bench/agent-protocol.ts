// `npm run bench:agent`: the agent protocol end to end. A control plane in this process, the agent
// in a child (bench/agent-host.ts) running the example app (examples/hello/server.js) through the
// process driver. Measures, over N starts one at a time:
//   - assignment received (the agent's long-poll returns) → instance ready (first passing probe)
//   - the driver's overhead: spawn → ready minus the app's own start. The app's own start is, for
//     each start through berth, the part the app reports in its "listening" line (its process's
//     start → listening, read from the instance's log) plus what comes before its process starts
//     when no berth is involved (spawn → listening less that reported part, timed here just
//     before and just after, averaged). So the app's own variance (±15 ms between starts) is not
//     counted as the driver's. `driver_overhead_vs_separate_starts_ms` is the older measure: spawn →
//     ready minus the whole of the two separate starts' average.
// and the agent process's RSS idle and with N instances running. Prints one JSON object.
//   --quick   10 starts and 10 instances instead of 50
// The agent process runs with the Node flags `berth agent` runs with (src/cli/agent-node-flags.ts).
//   BENCH_AGENT_FLAGS='--max-semi-space-size=1'   further node flags for the agent process, to try memory settings
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startTestControlPlane } from '../src/api/control-plane.fixture.js';
import { freePort } from '../src/agent/port-allocator.js';
import { packReleaseArchive } from '../src/client/release-archive.js';
import { AGENT_NODE_FLAGS } from '../src/cli/agent-node-flags.js';
import { inAppStart, ownStartDetail, summary } from './app-start.js';

const quick = process.argv.includes('--quick');
const N = quick ? 10 : 50;
const here = dirname(fileURLToPath(import.meta.url));
const HELLO = join(here, '../../../examples/hello');

type Message =
  | { type: 'enrolled'; hostId: string; memoryEnforcement: string }
  | { type: 'assigned' | 'starting' | 'ready' | 'stopped'; id: string; at: number; since?: number }
  | { type: 'memory'; rss: number; heap: number; private: number; instances: number }
  | { type: 'closed' };

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main(): Promise<void> {
  const cp = await startTestControlPlane();
  const agentDir = await mkdtemp(join(tmpdir(), 'berth-bench-agent-'));
  const { digest, archive } = await packReleaseArchive(HELLO);
  await cp.admin.putArtifact(digest, archive);
  await cp.createService('hello', { run: 'node server.js', http: { host: 'hello.localhost' }, health: { ready: { type: 'http', path: '/healthz' } }, stop: { grace: '2s' } }, digest);
  const { token } = await cp.admin.createJoinToken();

  const seen = new Map<string, Message>();
  const waiters = new Map<string, () => void>();
  const agentFlags = [...AGENT_NODE_FLAGS, ...(process.env.BENCH_AGENT_FLAGS ?? '').split(' ').filter(Boolean)];
  const child = fork(join(here, 'agent-host.js'), [], {
    execArgv: ['--expose-gc', ...agentFlags],
    env: { ...process.env, BENCH_URL: cp.url, BENCH_TOKEN: token, BENCH_DATA: agentDir },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', (message: Message) => {
    const key = 'id' in message ? `${message.type}:${message.id}` : message.type;
    seen.set(key, message);
    waiters.get(key)?.();
  });
  const next = <T extends Message>(key: string, timeoutMs = 60_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(key);
        resolve(seen.get(key) as T);
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${key}`)), timeoutMs);
      if (seen.has(key)) done();
      else waiters.set(key, done);
    });
  // The RSS is read here, from the agent's /proc entry, so it is the agent process's alone; the
  // agent reports what only it can see (its heap, its private pages) after collecting garbage.
  const memory = async () => {
    seen.delete('memory');
    const answer = next<Extract<Message, { type: 'memory' }>>('memory');
    child.send({ type: 'memory' });
    const reported = await answer;
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
    return { ...reported, rss: vmRss };
  };

  try {
    const enrolled = await next<Extract<Message, { type: 'enrolled' }>>('enrolled');
    const toReady: number[] = [];
    const spawnToReady: number[] = [];
    const own: number[] = [];
    const overhead: number[] = [];
    const overheadVsSeparate: number[] = [];
    for (let i = 0; i < N; i++) {
      const before = await ownStartDetail(HELLO, await freePort());
      const id = `seq-${i}`;
      await cp.place('hello', id, enrolled.hostId, { replica: i });
      const ready = await next<Extract<Message, { at: number }>>(`ready:${id}`);
      const assigned = seen.get(`assigned:${id}`) as Extract<Message, { at: number }>;
      const starting = seen.get(`starting:${id}`) as Extract<Message, { at: number }>;
      // written before its first probe could pass; read before the stop removes the instance
      const logged = await readFile(join(agentDir, 'instances', id, 'output.log'), 'utf8');
      const inApp = inAppStart(logged);
      if (inApp === undefined) throw new Error(`${id}: no "listening … ms after start" line in its log: ${logged.slice(0, 200)}`);
      await cp.requestStop('hello', id);
      await next(`stopped:${id}`);
      const after = await ownStartDetail(HELLO, await freePort());
      const app = (before.total + after.total) / 2;
      const beforeApp = (before.total - before.inApp + (after.total - after.inApp)) / 2;
      const spawned = ready.at - starting.at;
      toReady.push(ready.at - assigned.at);
      spawnToReady.push(spawned);
      own.push(beforeApp + inApp);
      overhead.push(spawned - beforeApp - inApp);
      overheadVsSeparate.push(spawned - app);
    }

    const idle = await memory();
    const started = performance.now();
    for (let i = 0; i < N; i++) await cp.place('hello', `par-${i}`, enrolled.hostId, { replica: N + i });
    await Promise.all(Array.from({ length: N }, (_, i) => next(`ready:par-${i}`, 120_000)));
    const allReady = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // a heartbeat with the stats of every instance
    const afterBurst = await memory();
    // V8 keeps the heap it grew while N instances started (probes every few ms) and gives it back
    // when the process has been quiet for a while: the steady state is what a host lives with.
    await new Promise((resolve) => setTimeout(resolve, quick ? 5_000 : 20_000));
    const loaded = await memory();

    console.log(
      JSON.stringify({
        bench: 'agent',
        driver: 'process',
        memory_enforcement: enrolled.memoryEnforcement,
        agent_node_flags: agentFlags.join(' '),
        starts: N,
        assignment_to_ready_ms: summary(toReady),
        spawn_to_ready_ms: summary(spawnToReady),
        app_own_start_ms: summary(own),
        driver_overhead_ms: summary(overhead),
        driver_overhead_vs_separate_starts_ms: summary(overheadVsSeparate),
        aim_overhead_p99_ms: 50,
        [`all_${N}_placed_to_ready_ms`]: Math.round(allReady),
        agent_rss_mib: { idle: mib(idle.rss), [`with_${loaded.instances}_instances`]: mib(loaded.rss), [`right_after_${N}_started`]: mib(afterBurst.rss) },
        // RSS less the node binary's and libraries' pages, which every node process on the host shares
        agent_private_mib: { idle: mib(idle.private), [`with_${loaded.instances}_instances`]: mib(loaded.private) },
        agent_heap_mib: { idle: mib(idle.heap), [`with_${loaded.instances}_instances`]: mib(loaded.heap) },
        aim_rss_mib_with_50: 80,
      }),
    );
  } finally {
    if (child.connected) {
      child.send({ type: 'shutdown' });
      await next('closed', 60_000).catch(() => child.kill('SIGKILL'));
    }
    await cp.close();
    await rm(agentDir, { recursive: true, force: true });
  }
}

await main();
