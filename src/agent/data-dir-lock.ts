// One agent per data directory: two drivers on one directory would each adopt and restart the
// same instances. The lock names its holder by pid and start time, so a lock left by an agent
// that crashed (or a pid reused since) is taken over rather than blocking the host for good.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../core/errors.js';
import { isSameProcess, readBootId, readProcStat } from './proc-stat.js';

interface LockHolder {
  readonly pid: number;
  readonly startTime: number;
  readonly bootId: string;
}

const lockPath = (dataDir: string): string => join(dataDir, 'agent.lock');

async function holder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined; // absent, or half-written by a process that died mid-write
  }
}

/**
 * Takes the data directory for this process, or throws ConflictError naming the live agent that
 * holds it. This process may take it again (a driver reopened in place). Resolves to the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = lockPath(dataDir);
  const [self, bootId] = await Promise.all([readProcStat(process.pid), readBootId()]);
  const me: LockHolder = { pid: process.pid, startTime: self?.startTime ?? 0, bootId };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return async () => {
        const current = await holder(path);
        if (current?.pid === me.pid && current.startTime === me.startTime) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const other = await holder(path);
    const alive = other !== undefined && other.bootId === bootId && other.pid !== me.pid && (await isSameProcess(other.pid, other.startTime));
    if (alive) {
      throw new ConflictError(`${dataDir} is in use by another berth agent (pid ${other.pid}); stop it first, or give this agent its own --data directory`, {
        pid: other.pid,
      });
    }
    // stale (its agent is gone) or ours: take it over
    await rm(path, { force: true });
  }
  throw new ConflictError(`${dataDir}: could not take ${path}; another agent keeps taking it`);
}
