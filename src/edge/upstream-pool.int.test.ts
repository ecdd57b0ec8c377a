// The pool of idle connections to instances, over real loopback sockets: reuse, and expiry by the
// once-a-second sweep.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RoutedInstance } from './routed-instance.js';
import { NO_OWNER, UpstreamPool, type UpstreamConnection } from './upstream-pool.js';

let server: net.Server;
let port = 0;
const open = new Set<net.Socket>();
beforeAll(async () => {
  server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
});
afterAll(async () => {
  for (const socket of open) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function connected(pool: UpstreamPool, instance: RoutedInstance): Promise<UpstreamConnection> {
  const connection = pool.connect(instance, NO_OWNER);
  await new Promise((resolve) => connection.socket.once('connect', resolve));
  connection.connected = true;
  return connection;
}

it('reuses the most recently idle connection and closes those idle past the timeout, oldest first', async () => {
  const pool = new UpstreamPool({ idleTimeoutMs: 2_000, maxIdlePerInstance: 512 });
  const instance = new RoutedInstance({ id: 'web-1', address: '127.0.0.1', port, ready: true, draining: false });
  const old = await Promise.all(Array.from({ length: 300 }, () => connected(pool, instance)));
  for (const connection of old) pool.give(connection);
  pool.sweep();
  const recent = await connected(pool, instance);
  pool.give(recent);
  expect(pool.idleCount(instance)).toBe(301);

  // the 300 have been idle two sweeps (the timeout), the last one only one
  pool.sweep();
  expect(pool.idleCount(instance)).toBe(1);
  expect(old.every((c) => c.socket.destroyed)).toBe(true);
  expect(pool.takeIdle(instance, NO_OWNER)).toBe(recent);
  expect(recent.reused).toBe(true);
  recent.destroy();
});

it('takes a connection back reading, though its last borrower paused it while a slow client caught up', async () => {
  const pool = new UpstreamPool();
  const instance = new RoutedInstance({ id: 'web-1', address: '127.0.0.1', port, ready: true, draining: false });
  const connection = await connected(pool, instance);
  connection.socket.pause();
  pool.give(connection);
  // paused in the pool, the next borrower's answer would never be read
  expect(connection.socket.isPaused()).toBe(false);
  expect(pool.takeIdle(instance, NO_OWNER)).toBe(connection);
  connection.destroy();
});
