// Release archives, content-addressed: `<data>/artifacts/<sha256 hex>`. Written to a temporary
// file while hashing and renamed into place only when the digest matches, so a file under its
// digest is always whole and right. A directory per control plane: several control planes on one
// Postgres need a shared store behind this same interface (a table or an object store).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, ValidationError } from '../core/errors.js';

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The hex of a `sha256:<hex>` digest, or a 400 naming the fix. */
export function digestHex(digest: string): string {
  const hex = DIGEST.exec(digest)?.[1];
  if (hex === undefined) throw new ValidationError(`digest: ${JSON.stringify(digest)} is not a digest; write sha256:<64 lower-case hex digits>`, { digest });
  return hex;
}

export interface StoredArtifact {
  readonly size: number;
  readonly stream: () => Readable;
}

export class ArtifactStore {
  constructor(private readonly dir: string) {}

  #path = (digest: string): string => join(this.dir, digestHex(digest));

  async has(digest: string): Promise<boolean> {
    return (await stat(this.#path(digest)).catch(() => undefined))?.isFile() ?? false;
  }

  async get(digest: string): Promise<StoredArtifact> {
    const path = this.#path(digest);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new NotFoundError(`artifact ${digest} is not stored here; deploy the release again to upload it`, { digest });
    return { size: info.size, stream: () => createReadStream(path) };
  }

  /** Stores `body` under `digest` if it hashes to it; a mismatch stores nothing and is a 400. */
  async put(digest: string, body: Readable | AsyncIterable<Uint8Array>, maxBytes = 1024 * 2 ** 20): Promise<{ size: number; created: boolean }> {
    const path = this.#path(digest);
    if (await this.has(digest)) return { size: (await stat(path)).size, created: false };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.upload-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new ValidationError(`artifact: larger than ${maxBytes} bytes; leave build outputs and dependencies out of the service directory`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.from(body), counting, createWriteStream(temp, { mode: 0o600 }));
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest) throw new ValidationError(`artifact: the body hashes to ${actual}, not ${digest}; upload the archive the digest was computed from`, { digest, actual });
      await rename(temp, path);
      return { size, created: true };
    } finally {
      await rm(temp, { force: true });
    }
  }
}
