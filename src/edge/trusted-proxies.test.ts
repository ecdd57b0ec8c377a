import { describe, expect, it } from 'vitest';
import { clientAddress, forwardedClient } from './forwarded-headers.js';
import { TrustedProxies } from './trusted-proxies.js';

describe('TrustedProxies', () => {
  it('trusts the addresses and CIDR ranges listed, IPv4 and IPv6', () => {
    const trusted = TrustedProxies.parse('10.0.0.0/8, 127.0.0.1,fd00::/8,::1');
    expect(trusted.entries).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8', '::1']);
    for (const address of ['10.0.0.1', '10.255.255.255', '127.0.0.1', 'fd12::3', '::1']) expect(trusted.trusts(address)).toBe(true);
    for (const address of ['11.0.0.1', '127.0.0.2', 'fe80::1', '::2', '']) expect(trusted.trusts(address)).toBe(false);
    // a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; the edge unwraps them first
    expect(trusted.trusts(clientAddress('::ffff:10.1.2.3'))).toBe(true);
  });

  it('says no, without throwing, to what is no address', () => {
    const trusted = TrustedProxies.parse('0.0.0.0/0,::/0');
    for (const text of ['unknown', '_hidden', '10.0.0.1:80', '[::1]', '10.0.0']) expect([text, trusted.trusts(text)]).toEqual([text, false]);
  });

  it('is where the walk back through X-Forwarded-For stops: the right-most address it does not list is the client', () => {
    const trusted = TrustedProxies.parse('10.0.0.0/8,fd00::/8');
    const xff = (list: string) => Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: ${list}\r\n\r\n`, 'latin1');
    expect(forwardedClient(xff('203.0.113.7, 10.0.0.2, fd00::3'), '10.0.0.1', trusted)).toBe('203.0.113.7');
    expect(forwardedClient(xff('203.0.113.7, 11.0.0.2, 10.0.0.2'), '10.0.0.1', trusted)).toBe('11.0.0.2');
    expect(forwardedClient(xff('203.0.113.7, fd00::3, fe80::4'), '10.0.0.1', trusted)).toBe('fe80::4');
  });

  it('says which entry is wrong and how to write it', () => {
    expect(() => TrustedProxies.parse('nope')).toThrow('"nope" is not an IP address or CIDR range; write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1');
    expect(() => TrustedProxies.parse('127.0.0.1,10.0.0.0/33')).toThrow('"10.0.0.0/33" is not a CIDR range: an IPv4 prefix is /0 to /32; write e.g. 10.0.0.0/8');
    expect(() => TrustedProxies.parse('fd00::/129')).toThrow('"fd00::/129" is not a CIDR range: an IPv6 prefix is /0 to /128; write e.g. fd00::/8');
    expect(() => TrustedProxies.parse('10.0.0.0/')).toThrow(/is not a CIDR range/);
    expect(() => TrustedProxies.parse('10.0.0.0/-1')).toThrow(/is not a CIDR range/);
    expect(() => TrustedProxies.parse('10.0.0.0/8/8')).toThrow(/is not a CIDR range/);
    expect(() => TrustedProxies.parse('proxy.internal')).toThrow(/is not an IP address/);
    expect(() => TrustedProxies.parse(' , ')).toThrow('lists no proxy; write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1');
  });
});
