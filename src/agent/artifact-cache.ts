// Release archives on this host: fetched once by digest, verified, unpacked into
// `<cache>/<sha256 hex>/` and shared by every instance of that release. A directory under its
// digest is always complete (unpacked beside it, then renamed); ones no assignment has needed
// for a while are collected.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar';
import { ValidationError } from '../core/errors.js';

const DIGEST = /^sha256:([0-9a-f]{64})$/;

export type FetchArchive = (digest: string, signal?: AbortSignal) => Promise<AsyncIterable<Uint8Array>>;

export class ArtifactCache {
  readonly #unpacking = new Map<string, Promise<string>>();
  /** digest hex → when an assignment last needed it (epoch ms) */
  readonly #lastUsed = new Map<string, number>();

  private readonly dir: string;

  /** `dir` may be relative (an agent's `--data .berth/agent`): the directories it gives out are absolute, as instances' cwd must be. */
  constructor(
    dir: string,
    private readonly fetchArchive: FetchArchive,
    private readonly now: () => number = Date.now,
  ) {
    this.dir = resolve(dir);
  }

  /** The unpacked release directory of `digest`, fetching it first if this host lacks it. */
  ensure(digest: string, signal?: AbortSignal): Promise<string> {
    const hex = DIGEST.exec(digest)?.[1];
    if (hex === undefined) return Promise.reject(new ValidationError(`digest: ${JSON.stringify(digest)} is not sha256:<64 hex digits>`));
    this.#lastUsed.set(hex, this.now());
    let unpacking = this.#unpacking.get(hex);
    if (!unpacking) {
      unpacking = this.#ensure(digest, hex, signal).finally(() => this.#unpacking.delete(hex));
      this.#unpacking.set(hex, unpacking);
    }
    return unpacking;
  }

  /** Marks digests as in use without fetching (the releases of running instances). */
  touch(digests: Iterable<string>): void {
    for (const digest of digests) {
      const hex = DIGEST.exec(digest)?.[1];
      if (hex !== undefined) this.#lastUsed.set(hex, this.now());
    }
  }

  /**
   * Removes releases not needed for `unusedFor` ms. A release this agent has not seen used since
   * it started counts as used at start, so a restart collects nothing at once.
   */
  async collect(unusedFor: number): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of entries) {
      if (name.startsWith('.')) {
        // leftovers of a download or unpack cut short by a crash
        if (!this.#unpacking.size) await rm(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      if (this.#unpacking.has(name)) continue;
      const lastUsed = this.#lastUsed.get(name);
      if (lastUsed === undefined) {
        this.#lastUsed.set(name, this.now());
        continue;
      }
      if (this.now() - lastUsed < unusedFor) continue;
      await rm(join(this.dir, name), { recursive: true, force: true });
      this.#lastUsed.delete(name);
      removed.push(`sha256:${name}`);
    }
    return removed;
  }

  async #ensure(digest: string, hex: string, signal?: AbortSignal): Promise<string> {
    const target = join(this.dir, hex);
    if ((await stat(target).catch(() => undefined))?.isDirectory()) return target;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const nonce = randomBytes(6).toString('hex');
    const archive = join(this.dir, `.download-${nonce}.tar.gz`);
    const unpacked = join(this.dir, `.unpack-${nonce}`);
    try {
      const hash = createHash('sha256');
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      const body = await this.fetchArchive(digest, signal);
      await pipeline(Readable.from(body), hashing, createWriteStream(archive, { mode: 0o600 }));
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest) throw new ValidationError(`artifact ${digest}: the download hashes to ${actual}; refusing to run it`, { digest, actual });
      await mkdir(unpacked, { mode: 0o755 });
      // tar refuses entries that climb out of cwd (.., absolute paths) and links pointing outside.
      await extract({ file: archive, cwd: unpacked, strict: true, preserveOwner: false });
      await rename(unpacked, target);
      return target;
    } finally {
      await rm(archive, { force: true });
      await rm(unpacked, { recursive: true, force: true });
    }
  }
}
