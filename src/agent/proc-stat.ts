// What the kernel says about a process (/proc/<pid>/stat): the identity the agent trusts for
// adoption (pid + start time, which a recycled pid does not share), its group, and its usage.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie: exited, not yet reaped), T, ... */
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  /** field 22: clock ticks after boot; with the pid, names one process for the life of the boot */
  readonly startTime: number;
  /** user + system CPU time, ms */
  readonly cpuMs: number;
  readonly rssBytes: number;
}

function sysconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

let units: { ticks: number; page: number } | undefined;
const unitsOf = () => (units ??= { ticks: sysconf('CLK_TCK', 100), page: sysconf('PAGESIZE', 4096) });

/** Parses one stat line; the command name (field 2) may hold spaces and parentheses, so fields are read after the last ')'. */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(line.slice(0, line.indexOf('(')).trim());
  // rest[0] is field 3 (state), so field n is rest[n - 3]
  const rest = line.slice(close + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  const { ticks, page } = unitsOf();
  const stat: ProcStat = {
    pid,
    state: rest[0] ?? '?',
    ppid: field(4),
    pgid: field(5),
    startTime: field(22),
    cpuMs: ((field(14) + field(15)) * 1000) / ticks,
    rssBytes: field(24) * page,
  };
  return Number.isInteger(stat.pid) && Number.isFinite(stat.startTime) ? stat : undefined;
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone: ENOENT, or ESRCH while it exits
  }
}

/** True while `pid` is still the process that started at `startTime` and has not exited. */
export async function isSameProcess(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** Every live process on the host; one pass serves all instances of a tick. */
export async function readProcessTable(): Promise<ProcStat[]> {
  const names = await readdir('/proc');
  const stats = await Promise.all(names.filter((n) => /^\d+$/.test(n)).map((n) => readProcStat(Number(n))));
  return stats.filter((s): s is ProcStat => s !== undefined && s.state !== 'Z' && s.state !== 'X');
}

/** Identifies the boot, so a recorded start time is never compared across a reboot. */
export async function readBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return 'unknown';
  }
}
