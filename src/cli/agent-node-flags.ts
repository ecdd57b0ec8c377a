// The Node flags `berth agent` runs with, and the re-exec that applies them: V8 reads its heap
// sizes only when the process starts, so bin/berth.js replaces itself (execve, same pid) before
// loading anything else.
//
// Why: a host runs the agent beside its instances, and its memory is theirs. The agent is mostly
// waiting (long-polls, probes, a heartbeat every few seconds), so it trades V8's speed for size
// (npm run bench:agent, issue 4; RSS with 50 instances, each flag added to the ones before):
//   V8's defaults                                          ~220 MiB (young generation grown to 2 × 64 MiB
//                                                                    while 50 instances start, kept after)
//   --max-semi-space-size=2    a 2 MiB young generation     ~125 MiB
//   --optimize-for-size        V8 gives freed pages back     ~85 MiB
//   --no-opt --no-maglev       interpreter and baseline      ~66 MiB
//                              code only: the optimizing compilers' code (in the node binary)
//                              is never paged in, nor their zones allocated in worker threads'
//                              malloc arenas (which --single-threaded would also avoid, at the
//                              price of GC pauses on the main thread: no gain once these are set)
// The agent's own work (JSON of a few KiB per heartbeat, a probe every few seconds per instance)
// never needed optimized code; driver overhead stays under its aim (bench: p99 < 50 ms). Its client
// speaks node:http rather than fetch (src/client/transport.ts), which alone saves ~15 MiB.
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--optimize-for-size', '--no-opt', '--no-maglev'];

/**
 * Re-executes this process with AGENT_NODE_FLAGS when `argv` runs `berth agent` and the flags are
 * not set yet (on the command line or in NODE_OPTIONS). Returns only when it does not re-execute:
 * another command, flags already set, or a Node without process.execve (before 22.15), which then
 * runs the agent with V8's defaults.
 */
export function reexecForAgent(argv: readonly string[]): void {
  if (argv[2] !== 'agent' || process.execve === undefined) return;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = AGENT_NODE_FLAGS.filter((flag) => !given.some((g) => g.split('=')[0] === flag.split('=')[0]));
  if (missing.length === 0) return;
  process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...argv.slice(1)], process.env);
}
