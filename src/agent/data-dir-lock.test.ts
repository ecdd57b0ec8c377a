import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from './data-dir-lock.js';
import { readBootId, readProcStat } from './proc-stat.js';

describe('lockDataDir', () => {
  it('refuses a directory a live agent holds, naming it and the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-lock-'));
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const stat = await readProcStat(other.pid!);
      await writeFile(join(dir, 'agent.lock'), JSON.stringify({ pid: other.pid, startTime: stat!.startTime, bootId: await readBootId() }));
      await expect(lockDataDir(dir)).rejects.toMatchObject({
        status: 409,
        message: expect.stringMatching(new RegExp(`in use by another berth agent \\(pid ${other.pid}\\); stop it first, or give this agent its own --data`)),
      });
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a lock whose agent is gone, or whose pid now names another process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-lock-'));
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      // the pid is alive but started at another time: a reused pid, not the agent that locked
      await writeFile(join(dir, 'agent.lock'), JSON.stringify({ pid: stranger.pid, startTime: 1, bootId: await readBootId() }));
      const release = await lockDataDir(dir);
      expect(JSON.parse(await readFile(join(dir, 'agent.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
      await release();
      await expect(readFile(join(dir, 'agent.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('lets the same process take it again (a driver reopened in place)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-lock-'));
    await lockDataDir(dir);
    const again = await lockDataDir(dir);
    await again();
  });
});
