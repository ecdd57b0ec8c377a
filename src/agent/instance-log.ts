// An instance's stdout and stderr: one file both streams append to (so their lines keep their
// order), rotated by size.
//
// The process writes to the file itself, not through a pipe to the agent: a pipe would break
// (SIGPIPE) when the agent restarts, and instances must outlive it. The file is opened O_APPEND,
// so whatever the agent cuts from it, the process writes at the new end, not past a hole.
//
// Where the filesystem allows (ext4, xfs; probed once per filesystem by the first rotation on it),
// rotation is lossless: the head of the file, N bytes in whole filesystem blocks and fewer than it
// holds, is copied to `.1` (shifting older ones), then `fallocate --collapse-range` cuts those N
// bytes out of the file in place. The kernel cuts holding the inode lock every append takes, so no
// write is lost, and the file then starts at what was byte N: `.1` followed by the file is the log
// as written. A line may thus begin at the end of `.1` and end in the file; tail, follow and the
// marks read across the boundary and see it whole. The oldest file kept may likewise begin with
// the end of a line whose start went with a file rotated away; a tail reaching back that far shows
// that end as it is.
//
// Elsewhere (tmpfs, no util-linux fallocate), and for a file still under one block, rotation is
// copy-truncate: copy the file to `.1`, then carry over what was appended during the copy and
// truncate in one synchronous step, so a write landing in those microseconds is lost. The agent
// says once on stderr when a filesystem falls back to it.
//
// The agent checks sizes on a timer (a file passes maxBytes by what is written between checks)
// and not at all while no agent runs. A follower reads on from the rotated copy, so it loses
// nothing unless it falls more than `files` rotations behind.
//
// Lines carry no times, so each size check also marks the size (log-marks.ts): `tail(n, {since})`
// starts at the last mark at or before `since`, about a second early at most. A mark past the end
// of a collapsed `.1` lies in the next newer file, by what was cut.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync, truncateSync } from 'node:fs';
import { copyFile, open, rename, stat, statfs, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type { InstanceLogs, TailOptions, TailToFollow } from './driver.js';
import { LogMarks, type LogFloor } from './log-marks.js';

/** Where a follow starts: an offset in the live file, and which file was `.1` then. */
interface FollowStart {
  readonly offset: number;
  readonly newestRotated: number | undefined;
  /** rotations of the path (rotationCount) when the offset was in the live file */
  readonly rotations: number;
}

export interface LogRotation {
  /** size at which the file is rotated */
  readonly maxBytes: number;
  /** rotated files kept beside the live one */
  readonly files: number;
  /** auto (the default): collapse where the filesystem allows, else copy-truncate; copy-truncate: always (tests of the fallback) */
  readonly method?: 'auto' | 'copy-truncate';
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 2 ** 20, files: 3 };

/** How rotation works on a filesystem: collapse in whole blocks (lossless), or copy-truncate, and why. */
export type RotationMethod =
  | { readonly kind: 'collapse'; readonly blockSize: number }
  | { readonly kind: 'copy-truncate'; readonly reason: string };

const CHUNK = 64 * 1024;

// Rotation and each read of a follower take turns on a path, so a follower never sees the copy
// made but the head not yet cut (and reads lines twice) or a cut between its stat and read.
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

// Rotations of each path in this process (the agent rotates and follows its instances' logs): a
// follower that sees more of them since its last read than files are kept has lost its place.
const rotations = new Map<string, number>();
const rotationCount = (path: string): number => rotations.get(path) ?? 0;

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

  /** Where the next `.1` is written before it takes the name: a fresh file, so followers tell it from the last by its inode. */
  get #rotating(): string {
    return `${this.path}.rotating`;
  }

  /** The size check: marks the size for `since`, and rotates the file when it passed maxBytes; true when it did. */
  async rotate(): Promise<boolean> {
    const rotated = await exclusive(this.path, async () => {
      const done = await this.#rotate();
      if (done) rotations.set(this.path, rotationCount(this.path) + 1);
      return done;
    });
    if (rotated) for (const wake of [...(napping.get(this.path) ?? [])]) wake();
    return rotated;
  }

  async #rotate(): Promise<boolean> {
    const found = await stat(this.path).catch(() => undefined);
    if (found === undefined) return false;
    const { size, dev } = found;
    await this.#marks.observe(size, this.clock());
    if (size <= this.rotation.maxBytes) return false;
    if (this.rotation.files === 0) {
      await truncate(this.path, 0);
      await this.#marks.rotated(this.clock());
      return true;
    }
    // known before the shift: a probe that throws leaves the chain as it was
    const method = this.rotation.method === 'copy-truncate' ? undefined : await methodOn(dev, dirname(this.path));
    for (let i = this.rotation.files - 1; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(ignoreMissing);
    // whole blocks, and short of the end (collapse cannot reach it): a file under one block is copy-truncated
    const cut = method?.kind === 'collapse' ? Math.floor((size - 1) / method.blockSize) * method.blockSize : 0;
    if (cut > 0 && (await this.#collapse(cut, dev))) {
      const now = this.clock();
      await this.#marks.rotated(now);
      // the new generation opens with what this check saw past the cut, all written before now
      await this.#marks.observe(size - cut, now);
      return true;
    }
    await this.#copyTruncate();
    await this.#marks.rotated(this.clock());
    return true;
  }

  /** `.1` gets exactly the first `cut` bytes, then they are cut from the file; false when the cut failed (nothing lost, `.1` to be rewritten). */
  async #collapse(cut: number, dev: number): Promise<boolean> {
    await pipeline(createReadStream(this.path, { start: 0, end: cut - 1 }), createWriteStream(this.#rotating, { mode: 0o600 }));
    await rename(this.#rotating, `${this.path}.1`);
    const failed = await collapseHead(this.path, cut);
    if (failed === undefined) return true;
    fallBack(dev, dirname(this.path), failed);
    return false;
  }

  async #copyTruncate(): Promise<void> {
    await copyFile(this.path, this.#rotating);
    // what was appended during the copy is carried over and the file truncated in one synchronous
    // step: the window in which a write can be lost is microseconds, not an event-loop turn
    const copied = (await sizeOf(this.#rotating)) ?? 0;
    const late = readTailSync(this.path, copied);
    truncateSync(this.path, 0);
    if (late.length > 0) appendFileSync(this.#rotating, late);
    await rename(this.#rotating, `${this.path}.1`);
  }

  /** Takes its turn with rotation, so the marks and the files it reads agree. */
  tail(lines: number, options: TailOptions = {}): Promise<string[]> {
    if (lines <= 0) return Promise.resolve([]);
    return exclusive(this.path, async () => (await this.#tail(lines, options.since)).lines);
  }

  /**
   * The tail, and a follow that starts where the tail ended, both read in one turn: nothing the
   * app writes between them is missed or read twice. A last line not ended yet is left out of the
   * tail and comes whole from the follow once it ends.
   */
  tailToFollow(lines: number, options: TailOptions = {}): Promise<TailToFollow> {
    return exclusive(this.path, async () => {
      // one line more: the last may be unfinished, and where it starts must be known either way
      const read = await this.#tail(Math.max(lines, 0) + 1, options.since);
      let all = read.lines;
      let start: FollowStart = { offset: read.liveSize, newestRotated: await inodeOf(`${this.path}.1`), rotations: rotationCount(this.path) };
      if (read.unfinished > 0 && read.unfinished <= read.liveSize) {
        // an unfinished line wholly in the live file: the follow starts at its beginning
        all = all.slice(0, -1);
        start = { ...start, offset: read.liveSize - read.unfinished };
      } else if (read.unfinished > read.liveSize && this.files.length > 1) {
        // one that began in `.1` (a rotation cut it, the usual case just after one): the follow
        // takes `.1` for a copy it has not read yet, from where the line begins
        const inRotated = read.unfinished - read.liveSize;
        const rotatedSize = (await sizeOf(`${this.path}.1`)) ?? 0;
        if (inRotated <= rotatedSize) {
          all = all.slice(0, -1);
          // (as if read before the last rotation)
          start = { offset: rotatedSize - inRotated, newestRotated: await inodeOf(`${this.path}.2`), rotations: rotationCount(this.path) - 1 };
        }
      }
      return { lines: lines <= 0 ? [] : all.slice(-lines), follow: (signal?: AbortSignal) => this.#follow(signal, start) };
    });
  }

  /** The last lines (a last one not ended yet included), the live file's size as read, and the bytes of that unended line. */
  async #tail(lines: number, since: number | undefined): Promise<{ lines: string[]; liveSize: number; unfinished: number }> {
    const floor = since === undefined ? undefined : await this.#marks.floor(since);
    const start = floor === undefined ? undefined : await lineStart(this.files, floor);
    const chunks: Buffer[] = [];
    let newlines = 0;
    // newest file first, each read backwards, so every chunk read is older than the ones held and
    // a line split between two files comes out joined; with a floor, no further back than the
    // start of the line holding it
    let liveSize = 0;
    for (const [back, file] of this.files.entries()) {
      if (start !== undefined && back > start.back) break;
      const handle = await open(file, 'r').catch(() => undefined);
      if (handle === undefined) continue;
      try {
        const low = start?.back === back ? start.offset : 0;
        let position = (await handle.stat()).size;
        if (back === 0) liveSize = position;
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
    const bytes = Buffer.concat(chunks);
    const unfinished = bytes.length - (bytes.lastIndexOf(0x0a) + 1);
    const all = bytes.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return { lines: all.slice(-lines), liveSize, unfinished };
  }

  follow(signal?: AbortSignal): AsyncIterable<string> {
    return this.#follow(signal);
  }

  /** From `start`, or from the end of the log as it is now. */
  async *#follow(signal?: AbortSignal, start?: FollowStart): AsyncIterable<string> {
    const rotated = this.files.slice(1);
    // where we are: an offset in the live file, and which file was `.1` when we last looked
    let { offset, newestRotated, rotations: seen } =
      start ??
      (await exclusive(this.path, async () => ({
        offset: (await sizeOf(this.path)) ?? 0,
        newestRotated: await inodeOf(`${this.path}.1`),
        rotations: rotationCount(this.path),
      })));
    let decoder = new StringDecoder('utf8');
    let partial = '';
    // what is read begins inside a line whose start is gone: dropped up to the next line end
    let skipToLineEnd = false;
    while (!signal?.aborted) {
      let lost = false;
      let bytes = await exclusive(this.path, async () => {
        const read: Buffer[] = [];
        const inodes = await Promise.all(rotated.map(inodeOf));
        const size = (await sizeOf(this.path)) ?? 0;
        // More rotations than files kept came while this follower was not reading (a slow reader
        // of a fast log): the copy it was in has been deleted. The kept copies are read whole, the
        // oldest from its first line end on: the lines between are lost, but none comes out cut.
        const count = rotationCount(this.path);
        lost = rotated.length > 0 && count - seen > rotated.length;
        seen = count;
        if (lost) offset = 0;
        // rotations since we last looked put fresh copies in front of the `.1` we knew
        const known = lost ? -1 : inodes.indexOf(newestRotated);
        const fresh = known < 0 ? inodes.filter((ino) => ino !== undefined).length : known;
        if (newestRotated !== inodes[0] && fresh > 0) {
          // the oldest fresh copy holds, from our offset, what we had not read. Each copy ends where
          // the next newer file begins: copy-truncate took the whole file (go on at 0), a collapse
          // its first N bytes (a follower that had read past N goes on at offset - N)
          for (let i = fresh - 1; i >= 0; i--) {
            const copy = await readFrom(rotated[i]!, offset);
            read.push(copy.bytes);
            offset = Math.max(0, offset - copy.size);
          }
        } else if (size < offset) {
          offset = 0; // truncated with no rotated file kept
        }
        newestRotated = inodes[0];
        const live = (await readFrom(this.path, offset)).bytes;
        offset += live.length;
        read.push(live);
        return Buffer.concat(read);
      });
      if (lost) {
        partial = '';
        decoder = new StringDecoder('utf8');
        skipToLineEnd = true;
      }
      if (skipToLineEnd) {
        const end = bytes.indexOf(0x0a);
        bytes = bytes.subarray(end < 0 ? bytes.length : end + 1);
        skipToLineEnd = end < 0;
      }
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
    for (const file of [...this.files, this.#rotating]) await unlink(file).catch(ignoreMissing);
    await this.#marks.remove();
    rotations.delete(this.path);
  }
}

// By filesystem (st_dev), for the life of the process: the first rotation on a filesystem probes
// it, so one that cannot collapse costs one failed fallocate, not one every rotation.
const methods = new Map<number, Promise<RotationMethod>>();

/** How logs under `dir` rotate: what the first rotation there found, probing now if none has run. */
export async function rotationMethod(dir: string): Promise<RotationMethod> {
  return methodOn((await stat(dir)).dev, dir);
}

function methodOn(dev: number, dir: string): Promise<RotationMethod> {
  const known = methods.get(dev);
  if (known !== undefined) return known;
  const probing = probe(dir).then((method) => {
    if (method.kind === 'copy-truncate') warnCopyTruncate(dir, method.reason);
    return method;
  });
  methods.set(dev, probing);
  // a probe that could not run (disk full, directory removed meanwhile) says nothing of the filesystem: try again next time
  probing.catch(() => {
    if (methods.get(dev) === probing) methods.delete(dev);
  });
  return probing;
}

/** A collapse that failed where the probe passed: copy-truncate on that filesystem from now on. */
function fallBack(dev: number, dir: string, reason: string): void {
  methods.set(dev, Promise.resolve({ kind: 'copy-truncate', reason }));
  warnCopyTruncate(dir, reason);
}

function warnCopyTruncate(dir: string, reason: string): void {
  process.stderr.write(
    `berth agent: instance logs in ${dir} rotate by copy-truncate, which can lose a line written at the instant of a rotation ` +
      `(fallocate --collapse-range: ${reason}); for lossless rotation keep the data directory on ext4 or xfs with util-linux installed\n`,
  );
}

/** Cuts one block from a file of two in `dir`; the block size comes from statfs, which is what collapse aligns to on ext4 and xfs. */
async function probe(dir: string): Promise<RotationMethod> {
  const blockSize = (await statfs(dir)).bsize;
  const file = join(dir, `.collapse-probe-${randomUUID()}`);
  try {
    await writeFile(file, Buffer.alloc(2 * blockSize, 0x0a), { mode: 0o600 });
    const failed = await collapseHead(file, blockSize);
    if (failed !== undefined) return { kind: 'copy-truncate', reason: failed };
    const left = await sizeOf(file);
    if (left !== blockSize) return { kind: 'copy-truncate', reason: `cutting ${blockSize} of ${2 * blockSize} bytes left ${left ?? 'no file'}` };
    return { kind: 'collapse', blockSize };
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/** Cuts the first `length` bytes out of `path` in place: undefined when done, else why not. */
function collapseHead(path: string, length: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('fallocate', ['--collapse-range', '--offset', '0', '--length', String(length), path], (error, _stdout, stderr) => {
      if (error === null) resolve(undefined);
      else if (error.code === 'ENOENT') resolve('no fallocate command (util-linux)');
      else resolve(stderr.trim() || error.message);
    });
  });
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

/**
 * Where the line holding the byte before `at` begins (`at` itself when a newline ends there),
 * looking into older files when the line began in one. `files` newest first, as `back` counts.
 */
async function lineStart(files: readonly string[], at: LogFloor): Promise<LogFloor> {
  let { back, offset } = at;
  // past the end of a rotated file: a collapse left the rest of that generation in the next newer file
  for (let size = await sizeOf(files[back]!); back > 0 && size !== undefined && offset > size; size = await sizeOf(files[back]!)) {
    offset -= size;
    back--;
  }
  for (let file = back, end = offset; ; file++, end = Number.MAX_SAFE_INTEGER) {
    const handle = await open(files[file]!, 'r').catch(() => undefined);
    // a missing file is a gap: the line starts at the beginning of the one after it
    if (handle === undefined) return { back: Math.max(back, file - 1), offset: 0 };
    try {
      const found = await afterLastNewline(handle, end);
      if (found !== undefined) return { back: file, offset: found };
    } finally {
      await handle.close();
    }
    if (file + 1 >= files.length) return { back: file, offset: 0 };
  }
}

/** Just past the last newline before `end`; undefined when there is none. */
async function afterLastNewline(handle: FileHandle, end: number): Promise<number | undefined> {
  let position = Math.min(end, (await handle.stat()).size);
  while (position > 0) {
    const length = Math.min(CHUNK, position);
    const chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, position - length);
    const newline = chunk.lastIndexOf(0x0a);
    if (newline >= 0) return position - length + newline + 1;
    position -= length;
  }
  return undefined;
}

/** From `from` to the end, and the file's size (0 when it is missing). */
async function readFrom(path: string, from: number): Promise<{ bytes: Buffer; size: number }> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return { bytes: Buffer.alloc(0), size: 0 };
  try {
    const size = (await handle.stat()).size;
    if (size <= from) return { bytes: Buffer.alloc(0), size };
    const buffer = Buffer.alloc(size - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return { bytes: buffer.subarray(0, bytesRead), size };
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
