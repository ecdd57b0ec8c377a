// The host credential an agent got at enrollment, kept in its data directory (mode 0600) so a
// restarted agent speaks for the same host instead of enrolling a new one.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../core/errors.js';

export interface AgentCredential {
  /** the control plane it enrolled with */
  readonly url: string;
  readonly hostId: string;
  /** agent-scoped bearer token bound to hostId */
  readonly token: string;
}

export const credentialPath = (dataDir: string): string => join(dataDir, 'agent-credential.json');

export async function readCredential(dataDir: string): Promise<AgentCredential | undefined> {
  const path = credentialPath(dataDir);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  const data = JSON.parse(text) as Partial<AgentCredential>;
  if (typeof data.url !== 'string' || typeof data.hostId !== 'string' || typeof data.token !== 'string') {
    throw new ValidationError(`${path}: not a host credential; remove it to enroll this machine again as a new host`);
  }
  return { url: data.url, hostId: data.hostId, token: data.token };
}

export async function writeCredential(dataDir: string, credential: AgentCredential): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = credentialPath(dataDir);
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(credential, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
