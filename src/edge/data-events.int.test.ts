// The edge's fallbacks for client connections: where RawClient's binding is missing, net.Sockets
// reading into their own buffers (acceptWithOwnReads); where accepting cannot be taken over at all
// (no listening handle), sockets made by net.Server reading through 'data' events. Everything
// else is the same engine. Over real sockets, to an echo instance.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { ClientConnection } from './connection-proxy.js';
import { edgeRequest, patternBytes, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import type { ProxyContext } from './proxy.js';
import { parseRouteTable } from './route-table.js';
import { Routing } from './routing.js';
import { acceptWithOwnReads } from './socket-reads.js';
import { UpstreamPool } from './upstream-pool.js';

let instance: EchoInstance;
const pool = new UpstreamPool();
let context: ProxyContext;
beforeAll(async () => {
  instance = await startEchoInstance('web-1');
  const routing = new Routing({ random: seededRandom('data-events'), activate: () => {} });
  const parsed = parseRouteTable({ version: 1, routes: [{ host: 'web.test', service: 'web', instances: [{ id: instance.id, address: '127.0.0.1', port: instance.port, ready: true }] }] });
  if (!parsed.ok) throw new Error(parsed.message);
  routing.apply(parsed.table);
  context = { routing, pool, timeouts: { idleMs: 60_000, requestMs: 60_000 }, closed: () => {} };
});
afterAll(async () => {
  pool.close();
  await instance.close();
});

for (const reads of ['data events', 'own reads'] as const) {
  describe(`client sockets read through ${reads}`, () => {
    let server: net.Server;
    let port = 0;
    const connections = new Set<ClientConnection>();
    beforeAll(async () => {
      // no SocketReads given: the connection reads through 'data' events, as after the last fallback
      server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => void connections.add(new ClientConnection(socket, context)));
      port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
      if (reads === 'own reads') {
        const taken = acceptWithOwnReads(server, { noDelay: true, allowHalfOpen: true }, (socket, own) => void connections.add(new ClientConnection(socket, context, own)));
        expect(taken).toBe(true);
      }
    });
    afterAll(async () => {
      for (const connection of connections) connection.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it('proxies requests and answers, bodies both ways', async () => {
      const plain = await edgeRequest(port, 'web.test', '/hello');
      expect(plain.status).toBe(200);
      expect((JSON.parse(plain.body) as EchoAnswer).headers['x-forwarded-for']).toBe('127.0.0.1');
      const upload = 'u'.repeat(300_000);
      const posted = await edgeRequest(port, 'web.test', '/upload', { method: 'POST', body: upload });
      expect((JSON.parse(posted.body) as EchoAnswer).body === upload).toBe(true);
      const big = await new Promise<Buffer>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /big?size=1000000 HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n'));
        const parts: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => parts.push(chunk));
        socket.on('end', () => resolve(Buffer.concat(parts)));
        socket.on('error', reject);
      });
      const text = big.toString('latin1');
      expect(text.startsWith('HTTP/1.1 200')).toBe(true);
      expect(big.subarray(text.indexOf('\r\n\r\n') + 4).equals(patternBytes(1_000_000))).toBe(true);
      expect(connections.size).toBeGreaterThan(0);
    });
  });
}
