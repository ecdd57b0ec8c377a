// Spawns one run of an instance: its own session and process group (so the stop signal reaches
// every process it starts, and it survives the agent), stdout and stderr straight to its log file.
//
// With a cgroup, a small shell joins it and only then execs the command: nothing the app runs
// (not even its first fork or allocation) happens outside the cgroup. Writing the pid from the
// agent after spawn would leave a window in which the app could fork children that stay outside
// it forever (v1 and v2 children inherit the cgroup of their parent at fork time). The cost is
// one exec of /bin/sh. The pid stays the same through every exec, so it is the group leader.
//
// dash (Debian's /bin/sh) forks rather than execs the last command of `sh -c`, which would leave
// a shell as the leader: it dies at once on SIGTERM while the app is still shutting down, and it
// reports its own status rather than the app's. So a simple command (`node server.js`,
// `PORT=1 ./app`) is run with `exec`; anything with shell syntax is run as written, and the
// driver then waits for the whole group, not only the leader, before a stop is done.
import { spawn, type ChildProcess } from 'node:child_process';
import type { InstanceSpec } from '../../instance-spec.js';

/** Exit code of a launcher that could not join the instance's cgroup. */
export const JOIN_FAILED = 125;

const JOIN_THEN_EXEC = [
  'cmd=$1; shift',
  `for f in "$@"; do echo $$ > "$f" || { echo "berth: cannot join cgroup $f" >&2; exit ${JOIN_FAILED}; }; done`,
  'exec /bin/sh -c "$cmd"',
].join('\n');

// Characters of a command made of words only: no operators, redirections, expansions or quotes.
const SIMPLE = /^[A-Za-z0-9_@%+=:,./-]+(?: +[A-Za-z0-9_@%+=:,./-]+)*$/;
// Builtins and keywords, which `exec` cannot run: the command is left as written.
const BUILTINS = new Set(['exit', 'return', 'trap', 'cd', 'export', 'set', 'unset', 'eval', 'exec', '.', ':', 'shift', 'wait', 'readonly', 'ulimit', 'umask', 'read', 'kill', 'echo', 'printf', 'test', 'true', 'false', 'pwd', 'command', 'type']);

/** `exec` in front of a simple command, so the app itself is the group leader. */
export function execForm(command: string): string {
  const trimmed = command.trim();
  if (!SIMPLE.test(trimmed)) return command;
  const program = trimmed.split(' ').find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  return program === undefined || BUILTINS.has(program) ? command : `exec ${trimmed}`;
}

export function launch(spec: InstanceSpec, env: Record<string, string>, logFd: number, procsFiles: readonly string[]): ChildProcess {
  const command = execForm(spec.command);
  const args = procsFiles.length === 0 ? ['-c', command] : ['-c', JOIN_THEN_EXEC, `berth-${spec.id}`, command, ...procsFiles];
  return spawn('/bin/sh', args, { cwd: spec.cwd, env, detached: true, stdio: ['ignore', logFd, logFd] });
}
