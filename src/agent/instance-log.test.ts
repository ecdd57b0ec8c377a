import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstanceLog } from './instance-log.js';

describe('InstanceLog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

  it('tails the last lines, reaching back into rotated files', async () => {
    const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 100, files: 2 });
    await appendFile(log.path, lines(1, 20).join('\n') + '\n');
    expect(await log.rotate()).toBe(true);
    await appendFile(log.path, lines(21, 25).join('\n') + '\n');
    expect(await log.tail(3)).toEqual(lines(23, 25));
    expect(await log.tail(8)).toEqual(lines(18, 25));
    expect(await log.tail(100)).toEqual(lines(1, 25));
    expect(await log.tail(0)).toEqual([]);
  });

  it('keeps at most `files` rotated files', async () => {
    const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 10, files: 2 });
    for (let i = 0; i < 5; i++) {
      await appendFile(log.path, `round ${i} ${'x'.repeat(20)}\n`);
      await log.rotate();
    }
    expect((await readdir(dir)).sort()).toEqual(['output.log', 'output.log.1', 'output.log.2']);
    expect((await stat(log.path)).size).toBe(0);
    expect(await log.tail(5)).toEqual([`round 3 ${'x'.repeat(20)}`, `round 4 ${'x'.repeat(20)}`]);
  });

  it('does not rotate below maxBytes', async () => {
    const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 1000, files: 2 });
    await appendFile(log.path, 'short\n');
    expect(await log.rotate()).toBe(false);
  });

  it('follows a process writing through rotations in order, losing at most what the copy-truncate instant drops', async () => {
    const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 8 * 1024, files: 3 }, 20);
    const fd = log.openForChild();
    const script = `let n = 0; const t = setInterval(() => { for (let i = 0; i < 50; i++) console.log('line ' + ++n + ' ' + 'x'.repeat(100)); if (n >= 2000) { clearInterval(t); console.log('done'); } }, 5);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', fd, fd] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    closeSync(fd);
    const rotating = setInterval(() => void log.rotate(), 30);
    const seen: string[] = [];
    const abort = new AbortController();
    // 'done' could be what a copy-truncate loses: stop shortly after the writer exits in any case
    void exited.then(() => setTimeout(() => abort.abort(), 300));
    for await (const line of log.follow(abort.signal)) {
      seen.push(line.split(' ').slice(0, 2).join(' '));
      if (line === 'done') abort.abort();
    }
    clearInterval(rotating);
    await exited;
    const numbers = seen.filter((l) => l.startsWith('line ')).map((l) => Number(l.split(' ')[1]));
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
    expect(numbers.length).toBeGreaterThan(1_900);
  });
});
