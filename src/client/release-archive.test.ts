import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list } from 'tar';
import { expect, it } from 'vitest';
import { packReleaseArchive } from './release-archive.js';

it('packs the service directory but never its .env files, version control or berth data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-pack-'));
  await writeFile(join(dir, 'server.js'), 'console.log(1)\n');
  await writeFile(join(dir, '.env'), 'DATABASE_URL=postgres://secret\n');
  await writeFile(join(dir, '.env.production'), 'API_KEY=secret\n');
  await writeFile(join(dir, '.envrc-notes.md'), 'kept: not an env file\n');
  await mkdir(join(dir, '.git'));
  await writeFile(join(dir, '.git', 'HEAD'), 'ref\n');
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', '.env.local'), 'X=1\n');
  const { archive } = await packReleaseArchive(dir);
  const file = join(dir, '..', `${dir.split('/').pop()}.tgz`);
  await writeFile(file, archive);
  const entries: string[] = [];
  await list({ file, onReadEntry: (entry) => entries.push(entry.path) });
  expect(entries.sort()).toEqual(['.envrc-notes.md', 'config/', 'server.js']);
});
