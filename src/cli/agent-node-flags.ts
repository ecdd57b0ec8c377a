// The Node flags `berth agent` runs with, and the re-exec that applies them: V8 reads its heap
// sizes only when the process starts, so bin/berth.js replaces itself (execve, same pid) before
// loading anything else.
//
// Why: V8 grows its young generation while many instances start at once (50 instances, each
// probed every 10 ms until ready, on a busy host) up to 2 × 64 MiB (Node builds V8 without
// pointer compression), and keeps the pages it freed in its page pool afterwards. The agent then
// held ~220 MiB RSS for ~12 MiB of live objects (npm run bench:agent, issue 4). A 2 MiB
// semi-space bounds the young generation; the agent's heap is small, so the scavenges it adds are
// short (under a millisecond each in the benchmark).
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

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
