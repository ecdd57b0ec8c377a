// The embedded database's settings: PGlite rewrites postgresql.conf from ours on every start, so
// what initdb set (time zone, locale) must survive, with the smaller buffer pool.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openPgliteDriver } from './pglite-driver.js';

it('keeps initdb settings across restarts and uses 16 MB of shared buffers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-pglite-'));
  try {
    for (let start = 0; start < 2; start++) {
      const db = await openPgliteDriver(dir);
      const show = async (name: string) => Object.values((await db.query<Record<string, string>>(`SHOW ${name}`))[0]!)[0];
      expect(await show('shared_buffers')).toBe('16MB');
      expect(await show('TimeZone')).toBe('UTC');
      expect(await show('lc_messages')).toBe('C');
      expect(await show('default_text_search_config')).toBe('pg_catalog.english');
      await db.close();
    }
    expect(await readFile(join(dir, 'postgresql.conf'), 'utf8')).toContain('timezone = UTC');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
