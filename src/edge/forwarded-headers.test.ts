import { describe, expect, it } from 'vitest';
import { claimedProto, forwardedClient, forwardedElements, forwardedLines, nodeAddress, proxyClaims, rewriteForwarding } from './forwarded-headers.js';
import { TrustedProxies } from './trusted-proxies.js';

const head = (...lines: string[]) => Buffer.from(`GET / HTTP/1.1\r\nHost: web.test:8080\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`, 'latin1');
const claims = (...lines: string[]) => proxyClaims(head(...lines), 'web.test:8080', '8080');

describe('forwarding headers', () => {
  it("reads a trusted proxy's first X-Forwarded-Proto, -Host and -Port values", () => {
    expect(claims('X-Forwarded-Proto: https').proto).toBe('https');
    expect(claims('x-forwarded-proto: HTTPS , http').proto).toBe('https');
    // the first line's first value: the proxy nearest the client
    expect(claims('X-Forwarded-Proto: https', 'X-Forwarded-Proto: http').proto).toBe('https');
    expect(claims()).toEqual({ proto: 'http', host: 'web.test:8080', port: '8080' });
    expect(claims('X-Forwarded-Proto: ').proto).toBe('http');
    expect(claims('X-Forwarded-Proto: no scheme').proto).toBe('http');
    expect(claims('X-Forwarded-Host: App.Example.com:443, lb.internal').host).toBe('App.Example.com:443');
    expect(claims('X-Forwarded-Proto: https').host).toBe('web.test:8080');
    expect(claims('X-Forwarded-Host:').host).toBe('web.test:8080');
    expect(claims('X-Forwarded-Port: 8443, 80').port).toBe('8443');
    expect(claimedProto(head('X-Forwarded-Proto: HTTPS'))).toBe('https');
    expect(claimedProto(head())).toBe('http');
  });

  it("derives the port a trusted proxy's client used when it names none: the claimed host's, else the scheme's default", () => {
    expect(claims('X-Forwarded-Proto: https')).toEqual({ proto: 'https', host: 'web.test:8080', port: '8080' });
    expect(claims('X-Forwarded-Proto: https', 'X-Forwarded-Host: app.example.com')).toEqual({ proto: 'https', host: 'app.example.com', port: '443' });
    expect(claims('X-Forwarded-Host: app.example.com')).toEqual({ proto: 'http', host: 'app.example.com', port: '80' });
    expect(claims('X-Forwarded-Host: [2001:db8::1]:9443').port).toBe('9443');
    expect(proxyClaims(head('X-Forwarded-Proto: https'), 'app.example.com', '8080').port).toBe('443');
    // a port that is no port is not one
    expect(claims('X-Forwarded-Port: 0').port).toBe('8080');
    expect(claims('X-Forwarded-Port: 65536').port).toBe('8080');
    expect(claims('X-Forwarded-Port: 80a').port).toBe('8080');
    expect(claims('X-Forwarded-Proto: https', 'X-Forwarded-Port: 8443').port).toBe('8443');
  });

  it("keeps the connection's own scheme where a trusted proxy names none (https from a PROXY v2 header's TLS flag)", () => {
    const own = (...lines: string[]) => proxyClaims(head(...lines), 'web.test:8080', '443', 'https');
    expect(own()).toEqual({ proto: 'https', host: 'web.test:8080', port: '443' });
    expect(own('X-Forwarded-Host: app.example.com')).toEqual({ proto: 'https', host: 'app.example.com', port: '443' });
    // the proxy's own word still wins
    expect(own('X-Forwarded-Proto: http')).toEqual({ proto: 'http', host: 'web.test:8080', port: '8080' });
  });

  it("never takes a scheme or host from a trusted proxy's Forwarded: behind nginx or HAProxy it is the client's word", () => {
    expect(claims('Forwarded: for=203.0.113.7;proto=https;host=app.example.com')).toEqual({ proto: 'http', host: 'web.test:8080', port: '8080' });
    expect(claims('Forwarded: proto=https;host=evil.example', 'X-Forwarded-Proto: https')).toEqual({ proto: 'https', host: 'web.test:8080', port: '8080' });
    expect(claimedProto(head('Forwarded: proto=https'))).toBe('http');
    expect(claimedProto(head('Forwarded: proto=http', 'X-Forwarded-Proto: https'))).toBe('https');
  });

  it('takes no X-Forwarded-Host that would read as two values or hold what no host holds', () => {
    expect(claims('X-Forwarded-Host: a.example b.example').host).toBe('web.test:8080');
    expect(claims('X-Forwarded-Host: a.example/evil').host).toBe('web.test:8080');
    expect(claims('X-Forwarded-Host: App.Example.com:8443')).toEqual({ proto: 'http', host: 'App.Example.com:8443', port: '8443' });
  });

  it('parses Forwarded elements (RFC 7239 §4)', () => {
    expect(forwardedElements('for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual([{ for: '192.0.2.60' }]);
    expect(forwardedElements('For="[2001:db8:cafe::17]:4711", for=192.0.2.43 ,for=198.51.100.17')).toEqual([{ for: '[2001:db8:cafe::17]:4711' }, { for: '192.0.2.43' }, { for: '198.51.100.17' }]);
    expect(forwardedElements('for="a\\"b";host="x"')).toEqual([{ for: 'a"b' }]);
    // an element without for= is there, with nothing the edge reads
    expect(forwardedElements('host=a.example:8080; proto=https')).toEqual([{}]);
    // empty list elements and pairs are skipped
    expect(forwardedElements(' , for=192.0.2.43,, ;;')).toEqual([{ for: '192.0.2.43' }]);
    for (const bad of ['for', 'for=a b', 'for="a', 'for=a;for=b', '=a', 'for=a;"x"=1']) expect([bad, forwardedElements(bad)]).toEqual([bad, undefined]);
  });

  it('finds the client behind trusted proxies: the right-most address that is not trusted', () => {
    const trusted = TrustedProxies.parse('10.0.0.0/8,fd00::/8');
    const client = (...lines: string[]) => forwardedClient(head(...lines), '10.0.0.1', trusted);
    expect(client('X-Forwarded-For: 203.0.113.7')).toBe('203.0.113.7');
    // what the client wrote itself is left of the first untrusted address, and is never read
    expect(client('X-Forwarded-For: 198.51.100.1, 203.0.113.7')).toBe('203.0.113.7');
    expect(client('X-Forwarded-For: garbage, 203.0.113.7, 10.1.1.1, 10.2.2.2')).toBe('203.0.113.7');
    // every line, in order (RFC 9110 §5.3)
    expect(client('X-Forwarded-For: 203.0.113.7', 'X-Forwarded-For: 10.1.1.1')).toBe('203.0.113.7');
    // all trusted: the left-most, the farthest anyone knows (as nginx)
    expect(client('X-Forwarded-For: 10.3.3.3, 10.2.2.2')).toBe('10.3.3.3');
    // ports, brackets, IPv4-mapped IPv6, case
    expect(client('X-Forwarded-For: 203.0.113.7:51234')).toBe('203.0.113.7');
    expect(client('X-Forwarded-For: [2001:DB8::7]:51234, fd00::9')).toBe('2001:db8::7');
    expect(client('X-Forwarded-For: 2001:db8::7')).toBe('2001:db8::7');
    expect(client('X-Forwarded-For: ::ffff:203.0.113.7')).toBe('203.0.113.7');
    // missing or malformed on the way: the peer
    expect(client()).toBe('10.0.0.1');
    expect(client('X-Forwarded-For: ')).toBe('10.0.0.1');
    expect(client('X-Forwarded-For: 203.0.113.7, unknown')).toBe('10.0.0.1');
    expect(client('X-Forwarded-For: 203.0.113.7,')).toBe('10.0.0.1');
    expect(client('X-Forwarded-For: 203.0.113.7:99999')).toBe('10.0.0.1');
    expect(client('X-Forwarded-For: app.example.com')).toBe('10.0.0.1');
  });

  it('reads the client from Forwarded for= when there is no X-Forwarded-For', () => {
    const trusted = TrustedProxies.parse('10.0.0.0/8');
    const client = (...lines: string[]) => forwardedClient(head(...lines), '10.0.0.1', trusted);
    expect(client('Forwarded: for=203.0.113.7;proto=https')).toBe('203.0.113.7');
    expect(client('Forwarded: for=198.51.100.1, for="[2001:db8::7]:4711", for=10.9.9.9')).toBe('2001:db8::7');
    expect(client('Forwarded: for=10.3.3.3, for=10.2.2.2')).toBe('10.3.3.3');
    // X-Forwarded-For wins when both are there
    expect(client('Forwarded: for=198.51.100.1', 'X-Forwarded-For: 203.0.113.7')).toBe('203.0.113.7');
    // an obfuscated or unknown node, an element without for=, a Forwarded that does not parse: the peer
    expect(client('Forwarded: for=_hidden')).toBe('10.0.0.1');
    expect(client('Forwarded: for=unknown')).toBe('10.0.0.1');
    expect(client('Forwarded: for=203.0.113.7, proto=https')).toBe('10.0.0.1');
    expect(client('Forwarded: for="203.0.113.7')).toBe('10.0.0.1');
    expect(client('Forwarded: proto=https')).toBe('10.0.0.1');
  });

  it('reads addresses out of nodes', () => {
    expect(nodeAddress(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(nodeAddress('192.0.2.1:80')).toBe('192.0.2.1');
    expect(nodeAddress('[::1]')).toBe('::1');
    expect(nodeAddress('[::1]:80')).toBe('::1');
    for (const bad of ['', '192.0.2', '192.0.2.1:', '192.0.2.1:x', '[::1', '[::1]x', '[192.0.2.1]', '::1]:80', '_hidden', 'unknown']) expect([bad, nodeAddress(bad)]).toEqual([bad, undefined]);
  });

  it('writes its own lines and drops the client-set ones', () => {
    expect(forwardedLines('10.0.0.1', 'https', 'app.example.com', '443')).toBe('X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.com\r\nX-Forwarded-Port: 443\r\n');
    expect(forwardedLines('10.0.0.1', 'http', '', '')).toBe('X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n');
    const sent = head('X-Forwarded-Proto: https', 'x-forwarded-host: a', 'X-Forwarded-Port: 443', 'X-Forwarded-For: 1.2.3.4', 'forwarded: for=1.2.3.4;proto=https', 'X-Forwarded-Something: kept').toString('latin1');
    // anyone else's Forwarded goes with the rest
    expect(rewriteForwarding(sent, undefined)).toBe(head('X-Forwarded-For: 1.2.3.4', 'X-Forwarded-Something: kept').toString('latin1'));
    // a trusted proxy's stays, and the edge adds its own element for the hop it saw
    expect(rewriteForwarding(sent, '10.0.0.1')).toBe(head('X-Forwarded-For: 1.2.3.4', 'forwarded: for=1.2.3.4;proto=https', 'X-Forwarded-Something: kept', 'Forwarded: for=10.0.0.1').toString('latin1'));
    expect(rewriteForwarding(head('Forwarded: for=1.2.3.4').toString('latin1'), 'fd00::1')).toBe(head('Forwarded: for=1.2.3.4', 'Forwarded: for="[fd00::1]"').toString('latin1'));
    // no Forwarded from the proxy: none is started
    expect(rewriteForwarding(head('X-Forwarded-Proto: https').toString('latin1'), '10.0.0.1')).toBe(head().toString('latin1'));
  });
});
