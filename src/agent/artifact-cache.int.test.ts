import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packReleaseArchive } from '../client/release-archive.js';
import { ArtifactCache } from './artifact-cache.js';

const HELLO = fileURLToPath(new URL('../../examples/hello', import.meta.url));
let dir: string;
let archive: Buffer;
let digest: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cache-'));
  ({ archive, digest } = await packReleaseArchive(HELLO));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const serve = (bytes: Buffer) => async () => new Response(bytes).body!;

it('packs reproducibly: the same directory gets the same digest', async () => {
  expect((await packReleaseArchive(HELLO)).digest).toBe(digest);
});

it('fetches once, unpacks into a directory shared by every instance of the release', async () => {
  let fetches = 0;
  const cache = new ArtifactCache(join(dir, 'a'), async () => (fetches++, serve(archive)()));
  const [one, two] = await Promise.all([cache.ensure(digest), cache.ensure(digest)]);
  expect(one).toBe(two);
  expect(await cache.ensure(digest)).toBe(one);
  expect(fetches).toBe(1);
  expect(await readFile(join(one, 'server.js'), 'utf8')).toContain('hello from berth');
});

it('gives out absolute directories from a relative cache directory (an agent started with --data .berth/agent): an instance needs an absolute cwd', async () => {
  const cache = new ArtifactCache(relative(process.cwd(), join(dir, 'relative')), serve(archive));
  const unpacked = await cache.ensure(digest);
  expect(isAbsolute(unpacked)).toBe(true);
  expect(unpacked.startsWith(join(dir, 'relative'))).toBe(true);
  expect(await readFile(join(unpacked, 'server.js'), 'utf8')).toContain('hello from berth');
});

it('refuses an archive that does not hash to its digest and leaves nothing behind', async () => {
  const cache = new ArtifactCache(join(dir, 'b'), serve(Buffer.from('not the archive')));
  await expect(cache.ensure(digest)).rejects.toThrow(/hashes to sha256:.*refusing to run it/);
  expect(await readdir(join(dir, 'b'))).toEqual([]);
  await expect(cache.ensure('sha256:nope')).rejects.toThrow(/is not sha256:/);
});

it('collects releases unused for the given time, never at once after a restart', async () => {
  let now = 0;
  const cache = new ArtifactCache(join(dir, 'a'), serve(archive), () => now);
  expect(await cache.collect(1_000)).toEqual([]); // first seen now: kept
  now = 500;
  cache.touch([digest]);
  now = 1_400;
  expect(await cache.collect(1_000)).toEqual([]);
  now = 1_600;
  expect(await cache.collect(1_000)).toEqual([digest]);
  expect(await readdir(join(dir, 'a'))).toEqual([]);
});
