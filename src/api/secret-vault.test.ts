import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventStore } from '../store/event-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { loadSecretKey, SecretVault } from './secret-vault.js';

let store: EventStore;
let dir: string;
beforeAll(async () => {
  store = await EventStore.open(await openPgliteDriver());
  dir = await mkdtemp(join(tmpdir(), 'berth-vault-'));
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

it('creates the key file once, mode 0600, and reads it back; BERTH_SECRET_KEY wins', async () => {
  const key = await loadSecretKey(dir, {});
  expect((await stat(join(dir, 'secret-key'))).mode & 0o777).toBe(0o600);
  expect((await loadSecretKey(dir, {})).equals(key)).toBe(true);
  expect((await loadSecretKey(dir, { BERTH_SECRET_KEY: 'ab'.repeat(32) })).toString('hex')).toBe('ab'.repeat(32));
  await expect(loadSecretKey(dir, { BERTH_SECRET_KEY: 'short' })).rejects.toThrow(/openssl rand -hex 32/);
  expect(await readFile(join(dir, 'secret-key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
});

it('seals values at rest, versions them, and opens them only under their own tenant and name', async () => {
  const vault = new SecretVault(store.driver, await loadSecretKey(dir, {}));
  expect(await vault.set('t1', 'DB_URL', 'postgres://secret')).toBe(1);
  expect(await vault.set('t1', 'DB_URL', 'postgres://secret2')).toBe(2);
  expect(await vault.values('t1', ['DB_URL'], 'web')).toEqual({ DB_URL: 'postgres://secret2' });
  const rows = await store.driver.query<{ sealed: string }>('SELECT sealed FROM secret_values');
  expect(JSON.stringify(rows)).not.toContain('secret2');
  // a sealed value copied under another name does not open
  await store.driver.query("INSERT INTO secret_values (tenant, name, version, sealed) SELECT tenant, 'OTHER', 1, sealed FROM secret_values WHERE name = 'DB_URL'");
  await expect(vault.values('t1', ['OTHER'], 'web')).rejects.toThrow();
  await expect(vault.values('t2', ['DB_URL'], 'web')).rejects.toThrow(/DB_URL of service web is not set/);
  const wrongKey = new SecretVault(store.driver, Buffer.alloc(32, 7));
  await expect(wrongKey.values('t1', ['DB_URL'], 'web')).rejects.toThrow();
});
