import { describe, expect, it } from 'vitest';
import { affinityKey, cookieValue } from './affinity.js';

describe('affinity keys', () => {
  it('reads one cookie among many', () => {
    expect(cookieValue('theme=dark; berth_affinity=abc; x=1', 'berth_affinity')).toBe('abc');
    expect(cookieValue('theme=dark', 'berth_affinity')).toBeUndefined();
    expect(cookieValue(undefined, 'berth_affinity')).toBeUndefined();
  });

  it('gives a client without the cookie a fresh key and the cookie to keep it', () => {
    const none = () => undefined;
    const first = affinityKey({ type: 'cookie', cookie: 'berth_affinity' }, none, '10.0.0.1', false);
    const second = affinityKey({ type: 'cookie', cookie: 'berth_affinity' }, none, '10.0.0.1', true);
    expect(first.key).not.toBe(second.key);
    expect(first.setCookie).toBe(`berth_affinity=${first.key}; Path=/; HttpOnly; SameSite=Lax`);
    expect(second.setCookie).toMatch(/; Secure$/);
    const back = affinityKey({ type: 'cookie', cookie: 'berth_affinity' }, (name) => (name === 'cookie' ? `berth_affinity=${first.key}` : undefined), '10.0.0.9', false);
    expect(back).toEqual({ key: first.key });
  });

  it('keys by client address or a header', () => {
    expect(affinityKey({ type: 'ip' }, () => undefined, '10.0.0.1', false)).toEqual({ key: '10.0.0.1' });
    expect(affinityKey({ type: 'header', header: 'X-Tenant' }, (name) => (name === 'x-tenant' ? 'acme' : undefined), '10.0.0.1', false)).toEqual({ key: 'acme' });
    expect(affinityKey(undefined, () => 'x', '10.0.0.1', false)).toEqual({ key: undefined });
  });
});
