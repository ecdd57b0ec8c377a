// Secret values at rest: AES-256-GCM with a key from BERTH_SECRET_KEY (64 hex digits) or a key
// file created on first start (`<data>/secret-key`, mode 0600). Values are sealed with the secret's
// tenant and name as associated data, so a sealed value moved to another row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { SqlExecutor } from '../store/sql-driver.js';

const KEY_HEX = /^[0-9a-f]{64}$/i;

export async function loadSecretKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const fromEnv = env.BERTH_SECRET_KEY?.trim();
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!KEY_HEX.test(fromEnv)) throw new ValidationError('BERTH_SECRET_KEY: not 64 hex digits; create one with: openssl rand -hex 32');
    return Buffer.from(fromEnv, 'hex');
  }
  const path = join(dataDir, 'secret-key');
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    if (!KEY_HEX.test(existing.trim())) throw new ValidationError(`${path}: not 64 hex digits; restore the key file from a backup (secrets sealed with it cannot be opened otherwise)`);
    return Buffer.from(existing.trim(), 'hex');
  }
  const key = randomBytes(32);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // wx: two control planes starting on one data dir must not each write their own key
  await writeFile(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
}

/** Where a service's own secret lives in its tenant's vault: apart from other services' of the same name. */
export const serviceSecretName = (service: string, name: string): string => `${service}/${name}`;

export class SecretVault {
  constructor(
    private readonly db: SqlExecutor,
    private readonly key: Buffer,
  ) {}

  /** Stores a value; returns its version (1 for a new name). */
  async set(tenant: string, name: string, value: string): Promise<number> {
    const [row] = await this.db.query<{ version: number }>(
      `INSERT INTO secret_values (tenant, name, version, sealed) VALUES ($1, $2, 1, $3)
       ON CONFLICT (tenant, name) DO UPDATE SET version = secret_values.version + 1, sealed = excluded.sealed, updated_at = now()
       RETURNING version`,
      [tenant, name, this.#seal(tenant, name, value)],
    );
    return row?.version ?? 1;
  }

  /** True when there was a value to delete. */
  async delete(tenant: string, name: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM secret_values WHERE tenant = $1 AND name = $2 RETURNING name', [tenant, name]);
    return rows.length > 0;
  }

  /**
   * The values of `names` for `service`: its own (`berth secrets set <service>`, stored as
   * `<service>/<NAME>`), else the tenant's of that name. A missing one is a 404 naming the
   * command that sets it.
   */
  async values(tenant: string, names: readonly string[], service: string): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    const wanted = [...names.map((n) => serviceSecretName(service, n)), ...names];
    const rows = await this.db.query<{ name: string; sealed: string }>(
      'SELECT name, sealed FROM secret_values WHERE tenant = $1 AND name = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))',
      [tenant, JSON.stringify(wanted)],
    );
    const found = new Map(rows.map((r) => [r.name, r.sealed]));
    const stored = (n: string): string | undefined => [serviceSecretName(service, n), n].find((key) => found.has(key));
    const missing = names.filter((n) => stored(n) === undefined);
    if (missing.length > 0) {
      throw new NotFoundError(`secret ${missing.join(', ')} of service ${service} is not set; set it with berth secrets set ${service} ${missing[0]} (the value read from the environment variable ${missing[0]})`, { missing });
    }
    return Object.fromEntries(
      names.map((n) => {
        const key = stored(n) ?? n;
        return [n, this.#open(tenant, key, found.get(key) ?? '')];
      }),
    );
  }

  /** Names (without the service prefix), versions and update times of a service's own secrets; never values. */
  async list(tenant: string, service: string): Promise<{ name: string; version: number; updatedAt: string }[]> {
    const prefix = serviceSecretName(service, '');
    const rows = await this.db.query<{ name: string; version: number; updated_at: Date | string }>(
      'SELECT name, version, updated_at FROM secret_values WHERE tenant = $1 AND left(name, length($2)) = $2 ORDER BY name',
      [tenant, prefix],
    );
    return rows.map((r) => ({ name: r.name.slice(prefix.length), version: r.version, updatedAt: new Date(r.updated_at).toISOString() }));
  }

  #seal(tenant: string, name: string, value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${tenant}/${name}`));
    const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${sealed.toString('base64url')}`;
  }

  #open(tenant: string, name: string, text: string): string {
    const [format, iv, tag, sealed] = text.split('.');
    if (format !== 'v1' || iv === undefined || tag === undefined || sealed === undefined) throw new Error(`secret ${tenant}/${name}: unknown sealed format`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`${tenant}/${name}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
  }
}
