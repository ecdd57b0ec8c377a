// A service directory packed as a release archive (tar.gz) and its digest. Reproducible: entries
// sorted, times and owners fixed, so unchanged code gets the same digest and is not uploaded again.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { create } from 'tar';

/** Never part of a release: version control, berth's own data. */
const SKIP = new Set(['.git', '.berth', '.DS_Store']);

/**
 * `.env` files hold secrets in clear (`berth secrets set --from-file .env` reads them): packed,
 * they would reach the artifact store and every agent, past the sealed vault.
 */
const isEnvFile = (name: string): boolean => name === '.env' || name.startsWith('.env.');

async function files(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (SKIP.has(entry.name) || isEnvFile(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(relative(root, path) + '/', ...(await files(root, path)));
    else if (entry.isFile() || entry.isSymbolicLink()) out.push(relative(root, path));
  }
  return out;
}

export async function packReleaseArchive(dir: string): Promise<{ archive: Buffer; digest: string }> {
  const list = await files(dir);
  const chunks: Buffer[] = [];
  const stream = create({ cwd: dir, gzip: true, portable: true, noDirRecurse: true, mtime: new Date(0) }, list);
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  const archive = Buffer.concat(chunks);
  return { archive, digest: `sha256:${createHash('sha256').update(archive).digest('hex')}` };
}
