// An instance's stdout and stderr: one file both streams append to (so their lines keep their
// order), rotated by size.
//
// The process writes to the file itself, not through a pipe to the agent: a pipe would break
// (SIGPIPE) when the agent restarts, and instances must outlive it. So rotation is copy-truncate:
// the agent copies the file to `.1` (shifting older ones) and truncates it; the file is opened
// O_APPEND, so after the truncate the process writes at the new end, not past a hole. What was
// appended during the copy is carried over to `.1` and the file truncated in one synchronous
// step, so only a write landing in those microseconds can be lost: the price of copy-truncate.
// The agent checks sizes on a timer (a file passes maxBytes by what is written between checks)
// and not at all while no agent runs. A follower reads on from the rotated copy, so it loses
// nothing unless it falls more than `files` rotations behind.
//
// Lines carry no times, so each size check also marks the size (log-marks.ts): `tail(n, {since})`
// starts at the last mark at or before `since`, about a second early at most.
import { appendFileSync, closeSync, fstatSync, openSync, readSync, truncateSync } from 'node:fs';
import { copyFile, open, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { InstanceLogs, TailOptions } from './driver.js';
import { LogMarks } from './log-marks.js';

export interface LogRotation {
  /** size at which the file is rotated */
  readonly maxBytes: number;
  /** rotated files kept beside the live one */
  readonly files: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 2 ** 20, files: 3 };

const CHUNK = 64 * 1024;

// Rotation and each read of a follower take turns on a path, so a follower never sees the copy
// made but the truncate not yet done (and reads lines twice) or a truncate between its stat and read.
const turns = new Map<string, Promise<unknown>>();

function exclusive<T>(path: string, run: () => Promise<T>): Promise<T> {
  const result = (turns.get(path) ?? Promise.resolve()).then(run);
  const turn = result.catch(() => undefined);
  turns.set(path, turn);
  void turn.then(() => {
    if (turns.get(path) === turn) turns.delete(path);
  });
  return result;
}

// Followers napping on a path, woken by a rotation so they read the fresh copy before another
// rotation pushes it further down the chain.
const napping = new Map<string, Set<() => void>>();

function nap(path: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const sleepers = napping.get(path) ?? new Set<() => void>();
    napping.set(path, sleepers);
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      sleepers.delete(wake);
      if (sleepers.size === 0 && napping.get(path) === sleepers) napping.delete(path);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleepers.add(wake);
    signal?.addEventListener('abort', wake, { once: true });
  });
}

export class InstanceLog implements InstanceLogs {
  readonly #marks: LogMarks;

  constructor(
    readonly path: string,
    private readonly rotation: LogRotation = DEFAULT_LOG_ROTATION,
    private readonly followPoll = 100,
    private readonly clock: () => number = Date.now,
  ) {
    this.#marks = new LogMarks(`${path}.marks`, rotation.files);
  }

  /** A descriptor for the child's stdout and stderr; the caller closes its copy after spawning. */
  openForChild(): number {
    return openSync(this.path, 'a', 0o600);
  }

  /** Newest first: the live file, then `.1` … `.files`. */
  get files(): string[] {
    return [this.path, ...Array.from({ length: this.rotation.files }, (_, i) => `${this.path}.${i + 1}`)];
  }

  /** The size check: marks the size for `since`, and copy-truncates the file when it passed maxBytes; true when it did. */
  async rotate(): Promise<boolean> {
    const rotated = await exclusive(this.path, () => this.#rotate());
    if (rotated) for (const wake of [...(napping.get(this.path) ?? [])]) wake();
    return rotated;
  }

  async #rotate(): Promise<boolean> {
    const size = await sizeOf(this.path);
    if (size === undefined) return false;
    await this.#marks.observe(size, this.clock());
    if (size <= this.rotation.maxBytes) return false;
    if (this.rotation.files === 0) {
      await truncate(this.path, 0);
      await this.#marks.rotated(this.clock());
      return true;
    }
    for (let i = this.rotation.files - 1; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(ignoreMissing);
    const first = `${this.path}.1`;
    await copyFile(this.path, first);
    // what was appended during the copy is carried over and the file truncated in one synchronous
    // step: the window in which a write can be lost is microseconds, not an event-loop turn
    const copied = (await sizeOf(first)) ?? 0;
    const late = readTailSync(this.path, copied);
    truncateSync(this.path, 0);
    if (late.length > 0) appendFileSync(first, late);
    await this.#marks.rotated(this.clock());
    return true;
  }

  /** Takes its turn with rotation, so the marks and the files it reads agree. */
  tail(lines: number, options: TailOptions = {}): Promise<string[]> {
    if (lines <= 0) return Promise.resolve([]);
    return exclusive(this.path, () => this.#tail(lines, options.since));
  }

  async #tail(lines: number, since: number | undefined): Promise<string[]> {
    const floor = since === undefined ? undefined : await this.#marks.floor(since);
    const chunks: Buffer[] = [];
    let newlines = 0;
    // newest file first, each read backwards, so every chunk read is older than the ones held;
    // with a floor, no further back than the start of the line holding it
    for (const [back, file] of this.files.entries()) {
      if (floor !== undefined && back > floor.back) break;
      const handle = await open(file, 'r').catch(() => undefined);
      if (handle === undefined) continue;
      try {
        const low = floor?.back === back ? await lineStart(handle, floor.offset) : 0;
        let position = (await handle.stat()).size;
        while (position > low && newlines <= lines) {
          const length = Math.min(CHUNK, position - low);
          position -= length;
          const chunk = Buffer.alloc(length);
          await handle.read(chunk, 0, length, position);
          chunks.unshift(chunk);
          for (const byte of chunk) if (byte === 0x0a) newlines++;
        }
      } finally {
        await handle.close();
      }
      if (newlines > lines) break;
    }
    const all = Buffer.concat(chunks).toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  }

  async *follow(signal?: AbortSignal): AsyncIterable<string> {
    const rotated = this.files.slice(1);
    // where we are: an offset in the live file, and which file was `.1` when we last looked
    let { offset, newestRotated } = await exclusive(this.path, async () => ({
      offset: (await sizeOf(this.path)) ?? 0,
      newestRotated: await inodeOf(`${this.path}.1`),
    }));
    const decoder = new StringDecoder('utf8');
    let partial = '';
    while (!signal?.aborted) {
      const bytes = await exclusive(this.path, async () => {
        const read: Buffer[] = [];
        const inodes = await Promise.all(rotated.map(inodeOf));
        const size = (await sizeOf(this.path)) ?? 0;
        // rotations since we last looked put fresh copies in front of the `.1` we knew
        const known = inodes.indexOf(newestRotated);
        const fresh = known < 0 ? inodes.filter((ino) => ino !== undefined).length : known;
        if (newestRotated !== inodes[0] && fresh > 0) {
          // the oldest fresh copy holds, from our offset, what we had not read; the newer ones are whole
          for (let i = fresh - 1; i >= 0; i--) read.push(await readRange(rotated[i]!, i === fresh - 1 ? offset : 0, Number.MAX_SAFE_INTEGER));
          offset = 0;
        } else if (size < offset) {
          offset = 0; // truncated with no rotated file kept
        }
        newestRotated = inodes[0];
        const live = await readRange(this.path, offset, Number.MAX_SAFE_INTEGER);
        offset += live.length;
        read.push(live);
        return Buffer.concat(read);
      });
      if (bytes.length === 0) {
        await nap(this.path, this.followPoll, signal);
        continue;
      }
      const lines = (partial + decoder.write(bytes)).split('\n');
      partial = lines.pop() ?? '';
      yield* lines;
    }
  }

  async remove(): Promise<void> {
    for (const file of this.files) await unlink(file).catch(ignoreMissing);
    await this.#marks.remove();
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

async function sizeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.size;
}

async function inodeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.ino;
}

/** Where the line holding byte `offset - 1` begins: `offset` itself when a newline ends there. */
async function lineStart(handle: FileHandle, offset: number): Promise<number> {
  let end = Math.min(offset, (await handle.stat()).size);
  while (end > 0) {
    const length = Math.min(CHUNK, end);
    const chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, end - length);
    const newline = chunk.lastIndexOf(0x0a);
    if (newline >= 0) return end - length + newline + 1;
    end -= length;
  }
  return 0;
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return Buffer.alloc(0);
  try {
    const end = Math.min(to, (await handle.stat()).size);
    if (end <= from) return Buffer.alloc(0);
    const buffer = Buffer.alloc(end - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function readTailSync(path: string, from: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= from) return Buffer.alloc(0);
    const buffer = Buffer.alloc(size - from);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, from));
  } finally {
    closeSync(fd);
  }
}
