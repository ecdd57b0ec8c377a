// The PROXY protocol over real sockets: an edge that trusts 127.0.0.1 as an L4 load balancer
// sending PROXY headers, and not 127.0.0.2 (both loopback on Linux), so one edge sees the
// balancer and a stranger.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RoutingMode } from './route-table.js';

const SEED = 'edge-proxy-protocol-int';
const BALANCER = '127.0.0.1';
const STRANGER = '127.0.0.2';
const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 PROXY header for TCP over IPv4, with the SSL TLV's client bit when `tls`. */
function v2(source: string, destinationPort: number, tls: boolean): Buffer {
  const tlv = tls ? Buffer.from([0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0]) : Buffer.alloc(0);
  const header = Buffer.alloc(16 + 12);
  SIGNATURE.copy(header);
  header[12] = 0x21;
  header[13] = 0x11;
  header.writeUInt16BE(12 + tlv.length, 14);
  Buffer.from(source.split('.').map(Number)).copy(header, 16);
  Buffer.from([10, 0, 0, 5]).copy(header, 20);
  header.writeUInt16BE(40_000, 24);
  header.writeUInt16BE(destinationPort, 26);
  return Buffer.concat([header, tlv]);
}

const request = (n = 1) => Buffer.from('GET / HTTP/1.1\r\nHost: web.test\r\n\r\n'.repeat(n));

/**
 * Writes `parts` from `localAddress` one at a time (so a header may arrive in pieces), half-closes,
 * and returns everything the edge sent back before closing: '' when it closed without a word.
 */
function exchange(port: number, localAddress: string, parts: Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (answer += text));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.on('connect', async () => {
      for (const part of parts) {
        socket.write(part);
        await new Promise((r) => setTimeout(r, 20));
      }
      socket.end();
    });
  });
}

/** The echo instances' answers in `text` (one per request on the connection). */
function echoes(text: string): EchoAnswer[] {
  return text
    .split(/HTTP\/1\.1 /)
    .filter((part) => part !== '')
    .map((part) => {
      expect(part.startsWith('200 ')).toBe(true);
      return JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4)) as EchoAnswer;
    });
}

let instances: EchoInstance[] = [];
beforeAll(async () => {
  instances = await Promise.all(['web-1', 'web-2', 'web-3'].map((id) => startEchoInstance(id)));
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.close()));
});

for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
  describe(`PROXY protocol from a trusted balancer (${BALANCER}) in ${mode} mode (seed ${SEED})`, () => {
    let edge: RunningEdge;
    beforeAll(async () => {
      const source = new MemoryRouteSource({
        version: 1,
        routes: [{ host: 'web.test', service: 'web', mode, affinity: { type: 'ip' }, instances: instances.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true })) }],
      });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, trustedProxies: [`${BALANCER}/32`], proxyProtocol: true, log: () => {} });
    });
    afterAll(async () => {
      await edge.close();
    });

    it('takes the client a v1 header names for X-Forwarded-For, and the port it connected to for X-Forwarded-Port', async () => {
      const text = await exchange(edge.port, BALANCER, [Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.5 56324 8443\r\n'), request(2)]);
      const answers = echoes(text);
      expect(answers).toHaveLength(2);
      for (const { headers } of answers) {
        expect(headers['x-forwarded-for']).toBe('203.0.113.7');
        expect(headers['x-forwarded-port']).toBe('8443');
        expect(headers['x-forwarded-proto']).toBe('http');
      }
    });

    it('reads a v2 header in pieces, and its TLS flag as https', async () => {
      const header = v2('198.51.100.9', 443, true);
      const text = await exchange(edge.port, BALANCER, [header.subarray(0, 5), header.subarray(5, 20), Buffer.concat([header.subarray(20), request()])]);
      const [answer] = echoes(text);
      expect(answer!.headers['x-forwarded-for']).toBe('198.51.100.9');
      expect(answer!.headers['x-forwarded-proto']).toBe('https');
      expect(answer!.headers['x-forwarded-port']).toBe('443');
    });

    it('keys ip affinity on the named client: one client stays on one instance, many spread', async () => {
      const instanceFor = async (client: string) => echoes(await exchange(edge.port, BALANCER, [Buffer.from(`PROXY TCP4 ${client} 10.0.0.5 1234 80\r\n`), request()]))[0]!.instance;
      const first = await instanceFor('203.0.113.50');
      for (let n = 0; n < 5; n++) expect(await instanceFor('203.0.113.50')).toBe(first);
      const spread = new Set<string>();
      for (let n = 0; n < 30; n++) spread.add(await instanceFor(`198.51.100.${n + 1}`));
      expect(spread.size).toBeGreaterThan(1);
    });

    it("closes the balancer's connection without a word when its header is missing or malformed", async () => {
      expect(await exchange(edge.port, BALANCER, [request()])).toBe('');
      expect(await exchange(edge.port, BALANCER, [Buffer.from('PROXY TCP4 203.0.113.7 ::1 1 2\r\n'), request()])).toBe('');
    });

    it("takes no header from a stranger: its connection is HTTP from the first byte, and its own address is the client's", async () => {
      const refused = await exchange(edge.port, STRANGER, [Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.5 1 2\r\n'), request()]);
      expect(refused).toMatch(/^HTTP\/1\.1 400 /);
      const [answer] = echoes(await exchange(edge.port, STRANGER, [request()]));
      expect(answer!.headers['x-forwarded-for']).toBe(STRANGER);
    });
  });
}

describe(`PROXY protocol with cookie affinity (seed ${SEED})`, () => {
  it("makes the affinity cookie Secure for a client the balancer says came over TLS, and only then", async () => {
    const source = new MemoryRouteSource({
      version: 1,
      routes: [{ host: 'web.test', service: 'web', mode: 'per-request', affinity: { type: 'cookie', cookie: 'berth_affinity' }, instances: instances.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true })) }],
    });
    const edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, trustedProxies: [`${BALANCER}/32`], proxyProtocol: true, log: () => {} });
    try {
      const cookie = (text: string) => /\r\nset-cookie: ([^\r]*)/i.exec(text)?.[1];
      const overTls = cookie(await exchange(edge.port, BALANCER, [Buffer.concat([v2('198.51.100.9', 443, true), request()])]));
      expect(overTls).toMatch(/^berth_affinity=.*; Secure/);
      const plain = cookie(await exchange(edge.port, BALANCER, [Buffer.concat([v2('198.51.100.9', 80, false), request()])]));
      expect(plain).toMatch(/^berth_affinity=/);
      expect(plain).not.toMatch(/Secure/);
    } finally {
      await edge.close();
    }
  });
});

describe('PROXY protocol options', () => {
  it('refuses proxyProtocol without trusted proxies, before listening', async () => {
    const source = new MemoryRouteSource({ version: 1, routes: [] });
    await expect(startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, proxyProtocol: true, log: () => {} })).rejects.toThrow(/read only from trusted proxies/);
  });
});
