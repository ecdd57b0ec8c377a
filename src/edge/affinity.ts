// Which key sticks a request to an instance (the ring is balancers/consistent-hash.ts): the
// value of the affinity cookie, the client address, or a named header. A client without the
// cookie gets a fresh random key, hashed like any other, and the cookie to keep it.
import { randomBytes } from 'node:crypto';
import type { Affinity } from '../spec/route.js';

export interface AffinityKey {
  readonly key: string | undefined;
  /** a Set-Cookie value to add to the response, for a client that had no key yet */
  readonly setCookie?: string;
}

const NO_KEY: AffinityKey = { key: undefined };

/** One cookie's value from a Cookie header, without parsing the others. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Long enough not to collide, short enough to be cheap on every request. */
const newKey = (): string => randomBytes(12).toString('base64url');

/** `header(name)` reads a request header by its lower-case name. */
export function affinityKey(affinity: Affinity | undefined, header: (name: string) => string | undefined, clientAddress: string, secure: boolean): AffinityKey {
  if (affinity === undefined) return NO_KEY;
  switch (affinity.type) {
    case 'ip':
      return { key: clientAddress };
    case 'header':
      return { key: header(affinity.header.toLowerCase()) };
    case 'cookie': {
      const existing = cookieValue(header('cookie'), affinity.cookie);
      if (existing !== undefined && existing !== '') return { key: existing };
      const key = newKey();
      return { key, setCookie: `${affinity.cookie}=${key}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}` };
    }
  }
}
