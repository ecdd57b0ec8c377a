import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstanceLog, rotationMethod } from './instance-log.js';
import { compact } from './log-marks.js';

/** The lines a follow gives up to `last`; `after` runs after each other line (to write more). */
async function followUntil(follow: (signal: AbortSignal) => AsyncIterable<string>, last: string, after: (seen: string[]) => Promise<void> = async () => {}): Promise<string[]> {
  const abort = new AbortController();
  const seen: string[] = [];
  for await (const line of follow(abort.signal)) {
    seen.push(line);
    if (line === last) abort.abort();
    else await after(seen);
  }
  return seen;
}

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
    expect((await readdir(dir)).sort()).toEqual(['output.log', 'output.log.1', 'output.log.2', 'output.log.marks']);
    expect((await stat(log.path)).size).toBe(0);
    expect(await log.tail(5)).toEqual([`round 3 ${'x'.repeat(20)}`, `round 4 ${'x'.repeat(20)}`]);
  });

  it('follows on from where its tail ended: what is written between them comes once, an unended last line whole', async () => {
    const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 100, files: 2 }, 10);
    await appendFile(log.path, `${lines(1, 20).join('\n')}\n`);
    expect(await log.rotate()).toBe(true);
    await appendFile(log.path, 'line 21\nhalf of line');
    const read = await log.tailToFollow(3);
    expect(read.lines).toEqual(lines(19, 21));
    // written after the tail was read and before the follow began: a follow "from now" loses it
    await appendFile(log.path, ' 22\nline 23\n');
    const followed = await followUntil(read.follow, 'line 24', async (seen) => {
      if (seen.length === 2) await appendFile(log.path, 'line 24\n');
    });
    expect(followed).toEqual(['half of line 22', 'line 23', 'line 24']);
    // none asked: still a start with nothing missed
    const none = await log.tailToFollow(0);
    expect(none.lines).toEqual([]);
    await appendFile(log.path, 'line 25\n');
    expect(await followUntil(none.follow, 'line 25')).toEqual(['line 25']);
  });

  it('does not rotate below maxBytes', async () => {
    const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 1000, files: 2 });
    await appendFile(log.path, 'short\n');
    expect(await log.rotate()).toBe(false);
  });

  describe('since', () => {
    // a size check every "second" of a fake clock
    const clocked = (rotation = { maxBytes: 1000, files: 2 }) => {
      let now = 1_000_000;
      const log = new InstanceLog(join(dir, 'output.log'), rotation, 100, () => now);
      const at = async (time: number, text?: string) => {
        if (text !== undefined) await appendFile(log.path, text);
        now = time;
        await log.rotate();
      };
      return { log, at };
    };

    it('keeps only the lines written since, marking the size at each check where it changed', async () => {
      const { log, at } = clocked();
      await at(1_001_000, lines(1, 3).join('\n') + '\n');
      await at(1_002_000); // unchanged: no mark
      await at(1_003_000, lines(4, 5).join('\n') + '\n');
      await at(1_004_000, 'line 6\n');
      const marks = (await readFile(`${log.path}.marks`, 'utf8')).trim().split('\n');
      expect(marks).toEqual(['1001000 0 21', '1003000 0 35', '1004000 0 42']);
      // lines 4 and 5 were written after the check at 1_002_000 (which saw 21 bytes)
      expect(await log.tail(100, { since: 1_002_500 })).toEqual(lines(4, 6));
      expect(await log.tail(100, { since: 1_003_000 })).toEqual(lines(6, 6));
      expect(await log.tail(1, { since: 1_002_500 })).toEqual(lines(6, 6));
      expect(await log.tail(100, { since: 1_005_000 })).toEqual([]);
      // before the first mark: the lines written before it are included (their times are unknown)
      expect(await log.tail(100, { since: 1_000_500 })).toEqual(lines(1, 6));
    });

    it('starts at the whole line when a check saw half of it', async () => {
      const { log, at } = clocked();
      await at(1_001_000, 'line 1\nline 2 fir');
      await at(1_002_000, 'st half\nline 3\n');
      expect(await log.tail(100, { since: 1_001_500 })).toEqual(['line 2 first half', 'line 3']);
    });

    it('follows its marks across rotations, and forgets those of rotated-away files', async () => {
      const { log, at } = clocked({ maxBytes: 50, files: 2 });
      const round = (r: number) => Array.from({ length: 4 }, (_, i) => `r${r} ${i}`).join('\n') + '\n'; // 20 bytes
      for (let r = 1; r <= 9; r++) await at(1_000_000 + r * 1000, round(r)); // rotates after r3, r6, r9: r1..r3 are gone
      expect((await readdir(dir)).sort()).toEqual(['output.log', 'output.log.1', 'output.log.2', 'output.log.marks']);
      const all = await log.tail(1000);
      expect(all).toHaveLength(6 * 4);
      // since after the check that saw r4: r5 on, reaching into `.2` (r4..r6), then `.1` (r7..r9)
      expect(await log.tail(1000, { since: 1_004_500 })).toEqual(all.slice(4));
      // since after the rotation at r9: nothing newer
      expect(await log.tail(1000, { since: 1_009_500 })).toEqual([]);
      await at(1_010_000, round(10));
      expect(await log.tail(1000, { since: 1_009_500 })).toEqual(['r10 0', 'r10 1', 'r10 2', 'r10 3']);
      // r4..r6 go too, with their marks: a since before every kept mark takes every kept line
      for (let r = 11; r <= 12; r++) await at(1_000_000 + r * 1000, round(r)); // rotates after r12
      const marks = await readFile(`${log.path}.marks`, 'utf8');
      expect(marks.split('\n').filter((l) => ['0', '1'].includes(l.split(' ')[1]!))).toEqual([]);
      expect(await log.tail(1000, { since: 1_001_500 })).toEqual(await log.tail(1000));
    });

    it('keeps its marks over an agent restart (a fresh InstanceLog reads them back)', async () => {
      const { at } = clocked({ maxBytes: 50, files: 2 });
      await at(1_001_000, 'a\n'.repeat(30));
      await at(1_002_000, 'b\n'.repeat(5));
      const again = new InstanceLog(join(dir, 'output.log'), { maxBytes: 50, files: 2 }, 100, () => 1_003_000);
      await appendFile(again.path, 'c\n');
      await again.rotate();
      expect(await again.tail(100, { since: 1_001_500 })).toEqual([...'bbbbb'.split(''), 'c']);
      await again.remove();
      expect(await readdir(dir)).toEqual([]);
    });

    it('thins marks older than a day to one an hour, and drops those of generations no longer kept', () => {
      const hour = 3_600_000;
      const marks = [
        { time: 0, generation: 0, offset: 1 },
        { time: 1, generation: 1, offset: 0 },
        { time: 2, generation: 1, offset: 5 },
        { time: hour, generation: 1, offset: 9 },
        { time: 30 * hour, generation: 2, offset: 0 },
        { time: 30 * hour + 1, generation: 2, offset: 3 },
      ];
      expect(compact(marks, 3, 2, 30 * hour + 2)).toEqual([marks[1], marks[3], marks[4], marks[5]]);
    });
  });

  // each by collapse where the filesystem allows (lossless) and by copy-truncate forced
  describe.each(['auto', 'copy-truncate'] as const)('rotating by %s', (method) => {
    /** Whether this rotation loses nothing: collapse in force on the test's filesystem, and not forced off. */
    const lossless = async (): Promise<boolean> => {
      if (method === 'copy-truncate') return false;
      const found = await rotationMethod(dir);
      if (found.kind === 'copy-truncate') console.log(`${dir} cannot collapse (${found.reason}): rotation is copy-truncate, allowed its losses`);
      return found.kind === 'collapse';
    };

    it('follows a process writing through rotations in order, every line where collapse is in force', async () => {
      const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 8 * 1024, files: 3, method }, 20);
      const exact = await lossless();
      const fd = log.openForChild();
      const script = `let n = 0; const t = setInterval(() => { for (let i = 0; i < 50; i++) console.log('line ' + ++n + ' ' + 'x'.repeat(100)); if (n >= 2000) { clearInterval(t); console.log('done'); } }, 5);`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', fd, fd] });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      closeSync(fd);
      // kept, so the test waits for a rotation still writing files before the directory is removed
      const rotations: Promise<unknown>[] = [];
      const rotating = setInterval(() => rotations.push(log.rotate()), 30);
      const seen: string[] = [];
      const broken: string[] = []; // neither 'done' nor a whole line: a part of one split by a rotation
      const abort = new AbortController();
      // 'done' could be what a copy-truncate loses: stop shortly after the writer exits in any case
      void exited.then(() => setTimeout(() => abort.abort(), exact ? 5_000 : 300));
      for await (const line of log.follow(abort.signal)) {
        seen.push(line.split(' ').slice(0, 2).join(' '));
        if (line !== 'done' && !/^line \d+ x{100}$/.test(line)) broken.push(line);
        if (line === 'done') abort.abort();
      }
      clearInterval(rotating);
      await Promise.allSettled(rotations);
      await exited;
      const numbers = seen.filter((l) => l.startsWith('line ')).map((l) => Number(l.split(' ')[1]));
      if (exact) {
        expect(broken).toEqual([]);
        expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
        expect(seen.at(-1)).toBe('done');
        return;
      }
      expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
      expect(numbers.length).toBeGreaterThan(1_900);
    });

    it('a follower that falls behind more rotations than files are kept loses the lines between, but none comes out cut', async () => {
      const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 1000, files: 2, method }, 10);
      const line = (n: number) => `line ${String(n).padStart(4, '0')} ${'x'.repeat(89)}`; // 100 bytes with its newline
      const write = (from: number, count: number) => appendFile(log.path, Array.from({ length: count }, (_, i) => `${line(from + i)}\n`).join(''));
      const abort = new AbortController();
      // from the start of the (empty) log
      await appendFile(log.path, '');
      const follower = (await log.tailToFollow(0)).follow(abort.signal)[Symbol.asyncIterator]();
      await write(1, 5);
      expect((await follower.next()).value).toBe(line(1));
      // the follower holds lines 2-5 and reads nothing more until asked: three rotations (of
      // more than a 4 KiB block, ending inside a line) push the copy it was in past `.2`
      let next = 6;
      for (let r = 0; r < 3; r++) {
        // each rotation a different length, so an offset into one copy is no line start in another
        await write(next, 41 + 7 * r);
        next += 41 + 7 * r;
        await appendFile(log.path, 'half a line that a later write ends ');
        expect(await log.rotate()).toBe(true);
      }
      await write(next, 3);
      const last = next + 2;
      const seen: string[] = [];
      const timer = setTimeout(() => abort.abort(), 5_000);
      for (let got = await follower.next(); !got.done; got = await follower.next()) {
        seen.push(got.value);
        if (got.value === line(last)) break;
      }
      clearTimeout(timer);
      abort.abort();
      // lines 2-5 were read before the rotations; of the rest, whole lines or none
      expect(seen.slice(0, 4)).toEqual([2, 3, 4, 5].map(line));
      const rest = seen.slice(4);
      expect(rest.filter((l) => !/^(half a line that a later write ends )?line \d{4} x{89}$/.test(l))).toEqual([]);
      expect(rest.at(-1)).toBe(line(last));
      const numbers = rest.map((l) => Number(/line (\d{4})/.exec(l)![1]));
      expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
      // something was lost: more rotations came than files are kept
      expect(numbers.length).toBeLessThan(last - 5);
    });

    it('follows on from a tail taken just after a rotation cut the last line, and gives that line whole', async () => {
      const log = new InstanceLog(join(dir, 'output.log'), { maxBytes: 4100, files: 2, method }, 10);
      const line = (n: number) => `line ${String(n).padStart(3, '0')} ${'x'.repeat(90)}`; // 100 bytes with its newline
      const unended = `line 041 ${'y'.repeat(141)}`;
      await appendFile(log.path, Array.from({ length: 40 }, (_, i) => `${line(i + 1)}\n`).join('') + unended);
      expect(await log.rotate()).toBe(true); // 4150 bytes: collapse cuts 4096 (inside line 41), copy-truncate all
      const read = await log.tailToFollow(2);
      expect(read.lines).toEqual([line(39), line(40)]);
      await appendFile(log.path, ' end\nline 042\n');
      expect(await followUntil(read.follow, 'line 042')).toEqual([`${unended} end`, 'line 042']);
    });

    it('keeps a line the rotation splits whole, in tail, since and follow', async () => {
      let now = 1_000_000;
      const rotation = { maxBytes: 4500, files: 2, method };
      const log = new InstanceLog(join(dir, 'output.log'), rotation, 20, () => now);
      // a second follower on the file that reads only when a rotation wakes it
      const sleepy = new InstanceLog(log.path, rotation, 60_000);
      const at = async (time: number, text: string) => {
        await appendFile(log.path, text);
        now = time;
        await log.rotate();
      };
      const line = (n: number) => `line ${String(n).padStart(3, '0')} ${'x'.repeat(90)}`; // 100 bytes with its newline
      const text = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${line(from + i)}\n`).join('');
      const whole = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i));

      await appendFile(log.path, text(1, 30));
      const abort = new AbortController();
      const fast = log.follow(abort.signal)[Symbol.asyncIterator]();
      const slow = sleepy.follow(abort.signal)[Symbol.asyncIterator]();
      const pull = async (follower: AsyncIterator<string>, count: number): Promise<string[]> => {
        const got: string[] = [];
        while (got.length < count) {
          const next = await follower.next();
          if (next.done === true) break;
          got.push(next.value);
        }
        return got;
      };
      const fastFirst = pull(fast, 11);
      const slowAll = pull(slow, 30);
      // reads and rotations take turns in order: after two turns, both followers took their offset
      // (3000) and made their first read, and the slow one naps until a rotation wakes it
      await log.tail(1);
      await log.tail(1);

      // checks that see 98 bytes of line 41, then 50 of line 42: both past the block a rotation cuts
      await at(1_001_000, text(31, 40) + line(41).slice(0, 98));
      await at(1_002_000, line(41).slice(98) + '\n' + line(42).slice(0, 50));
      // the fast follower has read to 4150, past the cut too
      expect(await fastFirst).toEqual(whole(31, 41));
      await at(1_003_000, line(42).slice(50) + '\n' + text(43, 50)); // 5000 bytes: rotates
      await at(1_004_000, text(51, 60));

      const rotated = await readFile(`${log.path}.1`);
      if (await lossless()) {
        // `.1` holds the first block, which ends inside line 41; the live file holds the rest of it
        expect(rotated.length).toBe(4096);
        expect((await readFile(log.path, 'utf8')).startsWith(`${line(41).slice(96)}\n${line(42)}`)).toBe(true);
      } else {
        expect(rotated.length).toBe(5000);
      }
      expect(await pull(fast, 19)).toEqual(whole(42, 60));
      expect(await slowAll).toEqual(whole(31, 60));
      abort.abort();

      expect(await log.tail(20)).toEqual(whole(41, 60));
      expect(await log.tail(19)).toEqual(whole(42, 60));
      expect(await log.tail(100)).toEqual(whole(1, 60));
      // a check saw part of line 41: from its start, in `.1`
      expect(await log.tail(100, { since: 1_001_500 })).toEqual(whole(41, 60));
      // a check saw part of line 42: from its start, which follows the cut
      expect(await log.tail(100, { since: 1_002_500 })).toEqual(whole(42, 60));
      // the check that rotated saw line 50 end: from line 51, not from the start of the live file
      expect(await log.tail(100, { since: 1_003_500 })).toEqual(whole(51, 60));
    });
  });
});
