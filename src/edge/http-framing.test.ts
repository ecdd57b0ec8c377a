import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerValue, headerValues, HttpFraming, type MessageHead } from './http-framing.js';

interface Trace {
  heads: MessageHead[];
  ends: number;
  data: string;
  bytes: string;
  errors: string[];
  tunnel: boolean;
}

function parse(kind: 'request' | 'response', chunks: string[], before?: (framing: HttpFraming) => void): Trace {
  const trace: Trace = { heads: [], ends: 0, data: '', bytes: '', errors: [], tunnel: false };
  const framing = new HttpFraming(
    kind,
    {
      onHead: (head) => trace.heads.push(head),
      onData: (chunk, start, end) => (trace.data += chunk.toString('latin1', start, end)),
      onBytes: (chunk, start, end) => (trace.bytes += chunk.toString('latin1', start, end)),
      onMessageEnd: () => trace.ends++,
      onTunnel: () => (trace.tunnel = true),
      onError: (message) => trace.errors.push(message),
    },
    { collectHeaders: true, decode: true },
  );
  before?.(framing);
  for (const chunk of chunks) framing.push(Buffer.from(chunk, 'latin1'));
  framing.end();
  return trace;
}

/** Every way to cut the text in two, so a boundary falls in every possible place. */
function splits(text: string): string[][] {
  return Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
}

const GET = 'GET /a?b=1 HTTP/1.1\r\nHost: Web.Example.com:8080\r\nX-Forwarded-Proto: https\r\n\r\n';
const POST = 'POST /form HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\nhello';
const CHUNKED = 'POST /up HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n';

describe('HttpFraming', () => {
  it('finds each request of a pipelined stream wherever the chunks are cut', () => {
    const stream = GET + POST + CHUNKED + GET;
    for (const chunks of splits(stream)) {
      const trace = parse('request', chunks);
      expect(trace.errors).toEqual([]);
      expect(trace.heads.map((h) => `${h.method} ${h.target}`)).toEqual(['GET /a?b=1', 'POST /form', 'POST /up', 'GET /a?b=1']);
      expect(trace.ends).toBe(4);
      expect(trace.data).toBe('hellohello world');
      expect(trace.heads[0]!.host).toBe('web.example.com');
      expect(trace.heads[0]!.authority).toBe('Web.Example.com:8080');
      expect(trace.heads[0]!.forwarded).toBe(true);
      expect(trace.heads[1]!.forwarded).toBe(false);
    }
  });

  it('passes on every byte after the heads exactly as received', () => {
    const trace = parse('request', [CHUNKED]);
    expect(trace.heads[0]!.raw.toString('latin1') + trace.bytes).toBe(CHUNKED);
  });

  it('cuts a stream at arbitrary points without losing a boundary (property)', () => {
    const messages = [GET, POST, CHUNKED];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 1, 2), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (picks, cuts) => {
        const stream = picks.map((i) => messages[i]!).join('');
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let last = 0;
        for (const p of points) {
          chunks.push(stream.slice(last, p));
          last = p;
        }
        chunks.push(stream.slice(last));
        const trace = parse('request', chunks);
        expect(trace.errors).toEqual([]);
        expect(trace.ends).toBe(picks.length);
      }),
      { seed: 42 },
    );
  });

  it('marks the heads that carry a forwarding header the edge replaces or reads', () => {
    const marked = (line: string) => parse('request', [`GET / HTTP/1.1\r\nHost: web\r\n${line}\r\n\r\n`]).heads[0]!.forwarded;
    for (const line of ['X-Forwarded-Proto: https', 'x-forwarded-host: a', 'X-Forwarded-Port: 443', 'Forwarded: for=192.0.2.1', 'FORWARDED: proto=https']) expect([line, marked(line)]).toEqual([line, true]);
    // X-Forwarded-For is only appended to: no rewrite of the head for it
    for (const line of ['X-Forwarded-For: 192.0.2.1', 'X-Forwarded-Server: a', 'Forwarded-For: a', 'X-Real-IP: 192.0.2.1']) expect([line, marked(line)]).toEqual([line, false]);
  });

  it('reads one header, or every line of it', () => {
    const raw = Buffer.from('GET / HTTP/1.1\r\nHost: web\r\nX-Forwarded-For: 192.0.2.1 \r\nX-Other: b\r\nx-forwarded-for:10.0.0.1, 10.0.0.2\r\n\r\n', 'latin1');
    expect(headerValue(raw, 'x-forwarded-for')).toBe('192.0.2.1');
    expect(headerValues(raw, 'x-forwarded-for')).toBe('192.0.2.1,10.0.0.1, 10.0.0.2');
    expect(headerValues(raw, 'forwarded')).toBeUndefined();
  });

  it('rejects the framings that let requests be smuggled', () => {
    expect(parse('request', ['POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', ['POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', ['POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', ['GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', ['POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', [`GET / HTTP/1.1\r\nX: ${'a'.repeat(40_000)}`]).errors).toHaveLength(1);
    expect(parse('request', ['GET / HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', ['GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello']).errors).toHaveLength(1);
    expect(parse('request', ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n']).errors).toHaveLength(1);
    expect(parse('request', ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n']).errors).toHaveLength(1);
  });

  it('rejects a request with two Host headers: the edge and the instance could read different ones', () => {
    expect(parse('request', ['GET / HTTP/1.1\r\nHost: a.test\r\nX: 1\r\nhost: b.test\r\n\r\n']).errors).toEqual(['more than one Host header']);
    expect(parse('request', ['GET / HTTP/1.1\r\nHost: a.test\r\n\r\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n']).errors).toEqual([]);
  });

  it('reads responses by their framing, knowing HEAD answers and 204/304 have no body', () => {
    const stream = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc' + 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n' + 'HTTP/1.1 204 No Content\r\n\r\n' + 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n';
    for (const chunks of splits(stream)) {
      const trace = parse('response', chunks, (framing) => ['GET', 'HEAD', 'GET', 'GET'].forEach((m) => framing.expectResponseTo(m)));
      expect(trace.errors).toEqual([]);
      expect(trace.heads.map((h) => h.status)).toEqual([200, 200, 204, 200]);
      expect(trace.ends).toBe(4);
      expect(trace.data).toBe('abcxyz');
    }
  });

  it('skips interim answers and ends a close-delimited body at the close', () => {
    const trace = parse('response', ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil close']);
    expect(trace.heads.map((h) => h.status)).toEqual([100, 200]);
    expect(trace.heads[1]!.connectionClose).toBe(true);
    expect(trace.data).toBe('until close');
    expect(trace.ends).toBe(1);
  });

  it('stops reading at a protocol switch', () => {
    const request = parse('request', ['GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello']);
    expect(request.tunnel).toBe(true);
    expect(request.bytes).toBe('\x81\x05hello');
    const response = parse('response', ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi']);
    expect(response.tunnel).toBe(true);
    expect(response.bytes).toBe('\x81\x02hi');
  });
});
