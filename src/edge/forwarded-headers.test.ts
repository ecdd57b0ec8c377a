import { describe, expect, it } from 'vitest';
import { claimedHost, claimedProto, forwardedLines, stripEdgeSetLines } from './forwarded-headers.js';

const head = (...lines: string[]) => Buffer.from(`GET / HTTP/1.1\r\nHost: web.test:8080\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`, 'latin1');

describe('forwarding headers', () => {
  it("reads a trusted proxy's first X-Forwarded-Proto and -Host values", () => {
    expect(claimedProto(head('X-Forwarded-Proto: https'))).toBe('https');
    expect(claimedProto(head('x-forwarded-proto: HTTPS , http'))).toBe('https');
    // the first line's first value: the proxy nearest the client
    expect(claimedProto(head('X-Forwarded-Proto: https', 'X-Forwarded-Proto: http'))).toBe('https');
    expect(claimedProto(head())).toBe('http');
    expect(claimedProto(head('X-Forwarded-Proto: '))).toBe('http');
    expect(claimedProto(head('X-Forwarded-Proto: no scheme'))).toBe('http');
    expect(claimedHost(head('X-Forwarded-Host: App.Example.com:443, lb.internal'), 'web.test:8080')).toBe('App.Example.com:443');
    expect(claimedHost(head('X-Forwarded-Proto: https'), 'web.test:8080')).toBe('web.test:8080');
    expect(claimedHost(head('X-Forwarded-Host:'), 'web.test:8080')).toBe('web.test:8080');
  });

  it('writes its own lines and drops the client-set ones', () => {
    expect(forwardedLines('10.0.0.1', 'https', 'app.example.com')).toBe('X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.com\r\n');
    expect(forwardedLines('10.0.0.1', 'http', '')).toBe('X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n');
    expect(stripEdgeSetLines(head('X-Forwarded-Proto: https', 'x-forwarded-host: a', 'X-Forwarded-For: 1.2.3.4').toString('latin1'))).toBe(head('X-Forwarded-For: 1.2.3.4').toString('latin1'));
  });
});
