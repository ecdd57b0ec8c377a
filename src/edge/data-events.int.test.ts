// The edge's fallback where it cannot take over accepting (acceptWithOwnReads finds no listening
// handle): client sockets made by net.Server read through 'data' events, and everything else is
// the same engine. Over real sockets, to an echo instance.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { ClientConnection } from './connection-proxy.js';
import { edgeRequest, patternBytes, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import type { ProxyContext } from './proxy.js';
import { parseRouteTable } from './route-table.js';
import { Routing } from './routing.js';
import { UpstreamPool } from './upstream-pool.js';

let instance: EchoInstance;
let server: net.Server;
let port = 0;
const pool = new UpstreamPool();
const connections = new Set<ClientConnection>();
beforeAll(async () => {
  instance = await startEchoInstance('web-1');
  const routing = new Routing({ random: seededRandom('data-events'), activate: () => {} });
  const parsed = parseRouteTable({ version: 1, routes: [{ host: 'web.test', service: 'web', instances: [{ id: instance.id, address: '127.0.0.1', port: instance.port, ready: true }] }] });
  if (!parsed.ok) throw new Error(parsed.message);
  routing.apply(parsed.table);
  const context: ProxyContext = { routing, pool, timeouts: { idleMs: 60_000, requestMs: 60_000 }, closed: () => {} };
  // no SocketReads given: the connection reads through 'data' events, as after the fallback
  server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => void connections.add(new ClientConnection(socket, context)));
  port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
});
afterAll(async () => {
  for (const connection of connections) connection.destroy();
  await new Promise((resolve) => server.close(resolve));
  pool.close();
  await instance.close();
});

it('proxies requests and answers, bodies both ways, over sockets read through data events', async () => {
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
});
