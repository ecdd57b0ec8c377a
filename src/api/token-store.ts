// Bearer tokens with scopes. The table holds only the sha256 of each token, so reading it (a
// backup, a replica) authenticates no one; the token itself is shown once, when issued.
import { createHash, randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../store/sql-driver.js';

/** `join` tokens can only enroll a host; `agent` tokens are bound to the host they enrolled. */
export type Scope = 'admin' | 'agent' | 'edge' | 'join';

export interface Principal {
  readonly tokenId: string;
  readonly scope: Scope;
  readonly name: string;
  /** set on agent tokens: the host the credential speaks for */
  readonly hostId?: string;
}

export interface IssuedToken {
  readonly id: string;
  /** the bearer token; never stored, never logged */
  readonly token: string;
  readonly expiresAt: Date | null;
}

export interface IssueOptions {
  readonly scope: Scope;
  readonly name: string;
  readonly hostId?: string;
  readonly expiresAt?: Date;
}

interface TokenRow {
  id: string;
  scope: Scope;
  name: string;
  host_id: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

// Verified tokens are kept briefly so heartbeats and long-polls cost no query each; a revocation
// through this store takes effect at once, one through another control plane within this time.
const CACHE_MS = 5_000;
const CACHE_MAX = 4_096;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class TokenStore {
  readonly #cache = new Map<string, { principal: Principal; until: number; expiresAt: number }>();

  constructor(
    private readonly db: SqlExecutor,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(options: IssueOptions): Promise<IssuedToken> {
    const id = randomBytes(8).toString('hex');
    // The prefix names what a leaked token is, for secret scanners and for the person who finds it.
    const token = `berth_${options.scope}_${randomBytes(32).toString('base64url')}`;
    await this.db.query('INSERT INTO tokens (id, hash, scope, name, host_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      id,
      hashToken(token),
      options.scope,
      options.name,
      options.hostId ?? null,
      options.expiresAt ?? null,
    ]);
    return { id, token, expiresAt: options.expiresAt ?? null };
  }

  /** The principal of a live token; undefined for an unknown, expired or revoked one. */
  async verify(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const now = this.now();
    const cached = this.#cache.get(hash);
    if (cached && cached.until > now && cached.expiresAt > now) return cached.principal;
    const [row] = await this.db.query<TokenRow>('SELECT id, scope, name, host_id, expires_at, revoked_at FROM tokens WHERE hash = $1', [hash]);
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at.getTime() <= now)) {
      this.#cache.delete(hash);
      return undefined;
    }
    const principal: Principal = { tokenId: row.id, scope: row.scope, name: row.name, ...(row.host_id === null ? {} : { hostId: row.host_id }) };
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    this.#cache.set(hash, { principal, until: now + CACHE_MS, expiresAt: row.expires_at?.getTime() ?? Infinity });
    return principal;
  }

  /**
   * Revokes a token; with `scope`, only a token of that scope, so a route for one kind of token
   * cannot revoke another kind (an admin's own token through DELETE /v1/join-tokens/{id}).
   * False when no such token exists (revoking twice is not an error).
   */
  async revoke(id: string, scope?: Scope): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>('UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND ($2::text IS NULL OR scope = $2) RETURNING id', [
      id,
      scope ?? null,
    ]);
    for (const [hash, entry] of this.#cache) if (entry.principal.tokenId === id) this.#cache.delete(hash);
    return rows.length > 0;
  }

  /** Revokes every credential of a host (decommission). */
  async revokeHost(hostId: string): Promise<void> {
    await this.db.query('UPDATE tokens SET revoked_at = now() WHERE host_id = $1 AND revoked_at IS NULL', [hostId]);
    for (const [hash, entry] of this.#cache) if (entry.principal.hostId === hostId) this.#cache.delete(hash);
  }
}
