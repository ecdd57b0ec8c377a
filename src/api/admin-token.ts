// The admin token of a data directory: created on first start, written to `<data>/admin-token`
// (mode 0600) for the operator and for client commands that find a local berth, kept across
// restarts while the database still knows it.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenStore } from './token-store.js';

export const adminTokenPath = (dataDir: string): string => join(dataDir, 'admin-token');

export async function ensureAdminToken(tokens: TokenStore, dataDir: string): Promise<{ path: string; created: boolean }> {
  const path = adminTokenPath(dataDir);
  const existing = await readFile(path, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (existing !== undefined && (await tokens.verify(existing))?.scope === 'admin') return { path, created: false };
  const { token } = await tokens.issue({ scope: 'admin', name: 'admin (first start)' });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Written beside, then renamed: a reader never sees half a token, and the mode is set before the token lands.
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${token}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return { path, created: true };
}
