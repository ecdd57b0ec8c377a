import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PROXY_HEADER, ProxyHeaderReader, readProxyHeader, writeProxyHeader } from './proxy-protocol.js';

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 header: command 1 PROXY / 0 LOCAL, family byte, the address block, then `tlvs`. */
function v2(command: number, family: number, addresses: Buffer, tlvs = Buffer.alloc(0)): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | command;
  fixed[1] = family;
  fixed.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([SIGNATURE, fixed, addresses, tlvs]);
}

function ipv4Block(source: number[], destination: number[], sourcePort: number, destinationPort: number): Buffer {
  const block = Buffer.alloc(12);
  Buffer.from(source).copy(block, 0);
  Buffer.from(destination).copy(block, 4);
  block.writeUInt16BE(sourcePort, 8);
  block.writeUInt16BE(destinationPort, 10);
  return block;
}

describe('PROXY protocol v1', () => {
  it('reads TCP4 addresses and ports, and the header length', () => {
    const header = 'PROXY TCP4 203.0.113.7 10.0.0.5 56324 443\r\n';
    expect(readProxyHeader(Buffer.from(`${header}GET / HTTP/1.1\r\n`))).toEqual({
      kind: 'complete',
      length: header.length,
      source: { address: '203.0.113.7', port: 56324 },
      destination: { address: '10.0.0.5', port: 443 },
    });
  });

  it('writes TCP6 addresses compressed and lower case, an IPv4-mapped one as IPv4', () => {
    const result = readProxyHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:10.0.0.5 1 80\r\n'));
    expect(result).toMatchObject({ kind: 'complete', source: { address: '2001:db8::1', port: 1 }, destination: { address: '10.0.0.5', port: 80 } });
  });

  it('UNKNOWN names nobody: the peer stays the client', () => {
    expect(readProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'complete', length: 15 });
    expect(readProxyHeader(Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'))).toMatchObject({ kind: 'complete' });
  });

  it('asks for more until the line ends', () => {
    for (const part of ['P', 'PROXY', 'PROXY ', 'PROXY TCP4 203.0.113.7 10.0.0.5 56324 44']) expect(readProxyHeader(Buffer.from(part))).toEqual({ kind: 'partial' });
  });

  it.each([
    ['GET / HTTP/1.1\r\n', 'does not begin with a PROXY protocol header'],
    ['PROXY UDP4 1.2.3.4 1.2.3.5 1 2\r\n', 'family "UDP4"'],
    ['PROXY TCP4 1.2.3.4 ::1 1 2\r\n', 'not both IPv4'],
    // an IPv6 zone names no client (and would not survive being written as one)
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'not both IPv6'],
    ['PROXY TCP4 1.2.3.4 1.2.3.5 1 65536\r\n', 'not both 0-65535'],
    ['PROXY TCP4 1.2.3.4 1.2.3.5 01 2\r\n', 'not both 0-65535'],
    ['PROXY TCP4 1.2.3.4 1.2.3.5 1\r\n', 'is "PROXY TCP4|TCP6'],
    [`PROXY TCP4 ${'1'.repeat(120)}`, 'at most 107 bytes'],
  ])('refuses %j', (text, message) => {
    const result = readProxyHeader(Buffer.from(text));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.message).toContain(message);
  });
});

describe('PROXY protocol v2', () => {
  it('reads TCP over IPv4, skipping TLVs', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP, 3 bytes
    const header = v2(1, 0x11, ipv4Block([198, 51, 100, 9], [10, 0, 0, 5], 40000, 8080), tlv);
    expect(readProxyHeader(Buffer.concat([header, Buffer.from('GET /')]))).toEqual({
      kind: 'complete',
      length: header.length,
      source: { address: '198.51.100.9', port: 40000 },
      destination: { address: '10.0.0.5', port: 8080 },
      tls: false,
    });
  });

  it('says the client came over TLS when the SSL TLV has its client bit', () => {
    const addresses = ipv4Block([198, 51, 100, 9], [10, 0, 0, 5], 40000, 443);
    // PP2_TYPE_SSL, length 5: client = PP2_CLIENT_SSL, verify = 0
    const ssl = Buffer.from([0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0]);
    expect(readProxyHeader(v2(1, 0x11, addresses, ssl))).toMatchObject({ tls: true });
    const plain = Buffer.from([0x20, 0x00, 0x05, 0x00, 0, 0, 0, 0]);
    expect(readProxyHeader(v2(1, 0x11, addresses, plain))).toMatchObject({ tls: false });
    // a TLV that claims more bytes than the header has says nothing
    expect(readProxyHeader(v2(1, 0x11, addresses, Buffer.from([0x20, 0x00, 0x09, 0x01])))).toMatchObject({ tls: false });
  });

  it('reads TCP over IPv6', () => {
    const block = Buffer.alloc(36);
    block.writeUInt16BE(0x2001, 0);
    block.writeUInt16BE(0x0db8, 2);
    block.writeUInt16BE(0x0007, 14);
    block.writeUInt16BE(1, 30); // destination ::1
    block.writeUInt16BE(5555, 32);
    block.writeUInt16BE(443, 34);
    expect(readProxyHeader(v2(1, 0x21, block))).toMatchObject({ source: { address: '2001:db8::7', port: 5555 }, destination: { address: '::1', port: 443 } });
  });

  it('LOCAL (a health check) and UNSPEC name nobody', () => {
    expect(readProxyHeader(v2(0, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))).toEqual({ kind: 'complete', length: 28 });
    expect(readProxyHeader(v2(1, 0x00, Buffer.alloc(0)))).toEqual({ kind: 'complete', length: 16 });
  });

  it('asks for more until the addresses have come', () => {
    const header = v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    for (const n of [1, 12, 15]) expect(readProxyHeader(header.subarray(0, n))).toEqual({ kind: 'partial' });
    // past the fixed part the whole length is known
    for (const n of [16, 27]) expect(readProxyHeader(header.subarray(0, n))).toEqual({ kind: 'partial', needs: 28 });
  });

  it('refuses a header longer than 16 KiB as soon as its length is read', () => {
    const header = v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.alloc(MAX_PROXY_HEADER));
    expect(readProxyHeader(header.subarray(0, 16))).toMatchObject({ kind: 'invalid', message: expect.stringContaining(`at most ${MAX_PROXY_HEADER}`) });
    const longest = v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.alloc(MAX_PROXY_HEADER - 28));
    expect(readProxyHeader(longest)).toMatchObject({ kind: 'complete', length: MAX_PROXY_HEADER });
  });

  it('refuses another version, another command, or addresses too short for their family', () => {
    const version1 = v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    version1[12] = 0x11;
    expect(readProxyHeader(version1)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('version 1') });
    const command = v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    command[12] = 0x22;
    expect(readProxyHeader(command)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('command 2') });
    expect(readProxyHeader(v2(1, 0x11, Buffer.alloc(8)))).toMatchObject({ kind: 'invalid', message: expect.stringContaining('12 bytes') });
    expect(readProxyHeader(v2(1, 0x21, Buffer.alloc(12)))).toMatchObject({ kind: 'invalid', message: expect.stringContaining('36 bytes') });
  });
});

describe('ProxyHeaderReader', () => {
  it('keeps a partial header across chunks the socket reuses, and gives what follows the header', () => {
    const reader = new ProxyHeaderReader();
    // one buffer the "socket" reads every chunk into, as SocketReads lends them
    const lent = Buffer.alloc(64);
    const push = (text: string) => {
      const n = lent.write(text, 'latin1');
      return reader.push(lent.subarray(0, n));
    };
    expect(push('PROXY TCP4 203.0.113.7 ')).toBeUndefined();
    expect(push('10.0.0.5 1 80\r\nGET')).toEqual({
      header: { kind: 'complete', length: 38, source: { address: '203.0.113.7', port: 1 }, destination: { address: '10.0.0.5', port: 80 } },
      rest: Buffer.from('GET'),
    });
    expect(new ProxyHeaderReader().push(Buffer.from('GET / HTTP/1.1\r\n'))).toMatchObject({ header: { kind: 'invalid' }, rest: undefined });
  });

  it('reads a v2 header that comes a byte at a time, with its TLVs, and what follows it', () => {
    const tlvs = Buffer.concat([Buffer.from([0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0]), Buffer.from([0x04, 0x03, 0xe8]), Buffer.alloc(1000, 0x61)]);
    const header = v2(1, 0x11, ipv4Block([203, 0, 113, 7], [10, 0, 0, 5], 4711, 443), tlvs);
    const bytes = Buffer.concat([header, Buffer.from('GET')]);
    const reader = new ProxyHeaderReader();
    const lent = Buffer.alloc(1);
    let read: ReturnType<ProxyHeaderReader['push']>;
    for (let i = 0; i < bytes.length && read === undefined; i++) {
      bytes.copy(lent, 0, i, i + 1);
      read = reader.push(lent);
    }
    expect(read).toEqual({
      header: { kind: 'complete', length: header.length, source: { address: '203.0.113.7', port: 4711 }, destination: { address: '10.0.0.5', port: 443 }, tls: true },
      rest: undefined,
    });
    // split where the header ends: the rest is the client's
    const again = new ProxyHeaderReader();
    expect(again.push(bytes.subarray(0, 20))).toBeUndefined();
    expect(again.push(bytes.subarray(20))).toMatchObject({ header: { kind: 'complete', length: header.length }, rest: Buffer.from('GET') });
  });
});

describe('writeProxyHeader (send-proxy toward instances)', () => {
  const client = { address: '203.0.113.7', port: 56324 };
  const edge = { address: '10.0.0.5', port: 15432 };

  it('writes a v1 TCP4 line, and a TCP6 one compressed', () => {
    expect(writeProxyHeader('v1', client, edge).toString('latin1')).toBe('PROXY TCP4 203.0.113.7 10.0.0.5 56324 15432\r\n');
    expect(writeProxyHeader('v1', { address: '2001:DB8:0:0:0:0:0:7', port: 1 }, { address: '2001:db8::5', port: 2 }).toString('latin1')).toBe('PROXY TCP6 2001:db8::7 2001:db8::5 1 2\r\n');
  });

  it('writes v2 as the PROXY command over IPv4 (0x21, 0x11) with no TLVs', () => {
    expect(writeProxyHeader('v2', client, edge)).toEqual(v2(1, 0x11, ipv4Block([203, 0, 113, 7], [10, 0, 0, 5], 56324, 15432)));
  });

  it('writes v2 over IPv6 (family 0x21), each address in its 16 bytes', () => {
    const header = writeProxyHeader('v2', { address: '2001:db8::7', port: 1 }, { address: 'fe80::1:2', port: 2 });
    expect([header[12], header[13], header.readUInt16BE(14), header.length]).toEqual([0x21, 0x21, 36, 52]);
    expect(header.subarray(16, 32).toString('hex')).toBe('20010db8000000000000000000000007');
    expect(header.subarray(32, 48).toString('hex')).toBe('fe800000000000000000000000010002');
    expect([header.readUInt16BE(48), header.readUInt16BE(50)]).toEqual([1, 2]);
  });

  it('writes an IPv4 address beside an IPv6 one as IPv4-mapped IPv6, either way round', () => {
    const onSix = { address: '2001:db8::5', port: 15432 };
    expect(writeProxyHeader('v1', client, onSix).toString('latin1')).toBe('PROXY TCP6 ::ffff:203.0.113.7 2001:db8::5 56324 15432\r\n');
    expect(writeProxyHeader('v1', onSix, client).toString('latin1')).toBe('PROXY TCP6 2001:db8::5 ::ffff:203.0.113.7 15432 56324\r\n');
    const binary = writeProxyHeader('v2', client, onSix);
    expect(binary[13]).toBe(0x21);
    expect(binary.subarray(16, 32).toString('hex')).toBe('00000000000000000000ffffcb007107');
  });

  it('takes an IPv4-mapped address (a dual-stack socket\'s IPv4 peer) as IPv4, and drops an IPv6 zone', () => {
    expect(writeProxyHeader('v1', { address: '::ffff:127.0.0.1', port: 40000 }, { address: '::ffff:127.0.0.1', port: 15432 }).toString('latin1')).toBe(
      'PROXY TCP4 127.0.0.1 127.0.0.1 40000 15432\r\n',
    );
    expect(writeProxyHeader('v1', { address: 'fe80::1%eth0', port: 1 }, { address: 'fe80::2%eth0', port: 2 }).toString('latin1')).toBe('PROXY TCP6 fe80::1 fe80::2 1 2\r\n');
  });

  it('reads back through readProxyHeader as the addresses and ports it was given, in both versions (property)', () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6());
    const port = fc.integer({ min: 0, max: 65_535 });
    // the reader as oracle: a TCP6 line with any IPv4 address mapped, which it reads back as IPv4
    const mapped = (text: string): string => (net.isIPv4(text) ? `::ffff:${text}` : text);
    fc.assert(
      fc.property(address, address, port, port, fc.uint8Array({ maxLength: 8 }), (from, to, sourcePort, destinationPort, after) => {
        const expected = readProxyHeader(Buffer.from(`PROXY TCP6 ${mapped(from)} ${mapped(to)} ${sourcePort} ${destinationPort}\r\n`));
        if (expected.kind !== 'complete') return expect.fail(`the oracle refused ${from} ${to}`);
        for (const version of ['v1', 'v2'] as const) {
          const header = writeProxyHeader(version, { address: from, port: sourcePort }, { address: to, port: destinationPort });
          // the connection's own bytes follow the header and are not part of it
          const read = readProxyHeader(Buffer.concat([header, after]));
          expect(read).toMatchObject({ kind: 'complete', length: header.length, source: expected.source, destination: expected.destination });
        }
      }),
      { numRuns: 500 },
    );
  });
});
