// Client connections driven through their handles (raw-client.ts), over real loopback
// connections: they read, pause, half-close, write past what the kernel takes, close once
// written, and are counted by their server as net.Server counts its own.
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { DirectWrites } from './direct-writes.js';
import { RAW_CLIENTS, type RawClient } from './raw-client.js';
import { acceptRawClients, type SocketReads } from './socket-reads.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const close of cleanup.splice(0)) close();
});

/** What a test sees of one accepted client. */
interface Accepted {
  client: RawClient;
  reads: SocketReads;
  chunks: string[];
  ended: boolean;
  closed: boolean;
  writes: DirectWrites;
  drained: number;
}

async function rawServer(): Promise<{ server: net.Server; port: number; accepted: Accepted[] }> {
  const server = net.createServer({ allowHalfOpen: true }, () => {
    throw new Error('the server made a net.Socket itself');
  });
  cleanup.push(() => {
    if (server.listening) server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted: Accepted[] = [];
  const taken = acceptRawClients(server, true, (client, reads) => {
    const entry: Accepted = { client, reads, chunks: [], ended: false, closed: false, writes: undefined!, drained: 0 };
    entry.writes = new DirectWrites(client, { onWritesDrained: () => entry.drained++ });
    reads.reader = { onChunk: (chunk) => entry.chunks.push(chunk.toString()) };
    client.owner = {
      onClientEnd: () => (entry.ended = true),
      onClientClose: () => {
        entry.closed = true;
        reads.release();
      },
    };
    accepted.push(entry);
    cleanup.push(() => client.destroy());
  });
  expect(taken).toBe(true);
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

async function arrived(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 1_000 && !condition(); n++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

function connect(port: number): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  cleanup.push(() => socket.destroy());
  return socket;
}

it.skipIf(!RAW_CLIENTS)('reads, knows the peer, and takes a half-close: the answer still goes out, then the FIN', async () => {
  const { port, accepted } = await rawServer();
  const socket = connect(port);
  let answer = '';
  let sawEnd = false;
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.on('end', () => (sawEnd = true));
  socket.end('hello raw');
  await arrived(() => accepted[0]?.ended === true);
  const entry = accepted[0]!;
  expect(entry.chunks.join('')).toBe('hello raw');
  expect(entry.client.remoteAddress).toBe('127.0.0.1');
  entry.writes.write(Buffer.from('got it'));
  entry.client.destroySoon();
  await arrived(() => sawEnd && entry.closed);
  expect(answer).toBe('got it');
});

it.skipIf(!RAW_CLIENTS)('sends everything written before destroySoon to a client that reads slowly, then closes', async () => {
  const { port, accepted } = await rawServer();
  const socket = connect(port);
  socket.pause();
  let received = 0;
  let sawEnd = false;
  socket.on('end', () => (sawEnd = true));
  await arrived(() => accepted.length === 1);
  const entry = accepted[0]!;
  const piece = Buffer.alloc(1024 * 1024, 7);
  // far more than the kernel's buffers take: libuv queues the rest, in order
  let flushed = true;
  for (let n = 0; n < 16; n++) flushed = entry.writes.write(piece) && flushed;
  expect(flushed).toBe(false);
  expect(entry.writes.queued).toBe(true);
  entry.client.destroySoon();
  expect(entry.client.writable).toBe(false);
  socket.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte !== 7) throw new Error('a byte that was not written');
    received += chunk.length;
  });
  socket.resume();
  await arrived(() => sawEnd && entry.closed);
  expect(received).toBe(16 * piece.length);
  expect(entry.drained).toBe(1);
});

it.skipIf(!RAW_CLIENTS)('reads nothing while paused, and what was sent meanwhile once resumed', async () => {
  const { port, accepted } = await rawServer();
  const socket = connect(port);
  socket.write('one');
  await arrived(() => accepted[0]?.chunks.length === 1);
  const entry = accepted[0]!;
  entry.client.pause();
  socket.write('two');
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(entry.chunks).toEqual(['one']);
  entry.client.resume();
  await arrived(() => entry.chunks.join('') === 'onetwo');
});

it.skipIf(!RAW_CLIENTS)('is counted by its server: close() waits for it, and a reset closes it', async () => {
  const { server, port, accepted } = await rawServer();
  const socket = connect(port);
  await arrived(() => accepted.length === 1);
  expect(await new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count)))).toBe(1);
  let serverClosed = false;
  server.close(() => (serverClosed = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(serverClosed).toBe(false);
  socket.resetAndDestroy();
  await arrived(() => accepted[0]!.closed && serverClosed);
  // writes after the close go nowhere and throw nothing
  expect(accepted[0]!.writes.write(Buffer.from('late'))).toBe(true);
});

/** Counts the TCP_NODELAY calls made on a client's handle from now on. */
function countNoDelay(client: RawClient): boolean[] {
  const calls: boolean[] = [];
  const handle = client._handle;
  const setNoDelay = handle.setNoDelay.bind(handle);
  handle.setNoDelay = (on: boolean) => (calls.push(on), setNoDelay(on));
  return calls;
}

it.skipIf(!RAW_CLIENTS)('sets TCP_NODELAY before a connection’s second write, not for a connection that writes once', async () => {
  const { port, accepted } = await rawServer();
  connect(port).write('one answer, then close');
  connect(port).write('kept alive');
  await arrived(() => accepted.length === 2 && accepted.every((entry) => entry.chunks.length > 0));
  const [once, twice] = accepted as [Accepted, Accepted];
  const onceCalls = countNoDelay(once.client);
  const twiceCalls = countNoDelay(twice.client);

  once.writes.write(Buffer.from('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n'));
  once.client.destroySoon();
  twice.writes.write(Buffer.from('first answer'));
  expect(twiceCalls).toEqual([]);
  // a small write after one the client has not acknowledged yet would wait for that
  // acknowledgement under Nagle's algorithm: the option is set before it goes
  twice.writes.write(Buffer.from('second answer'));
  twice.writes.write(Buffer.from('third answer'));
  expect(twiceCalls).toEqual([true]);
  await arrived(() => once.closed);
  expect(onceCalls).toEqual([]);
});

it.skipIf(!RAW_CLIENTS)('sets TCP_NODELAY at once when a first write has to queue, so what libuv sends later is not held back', async () => {
  const { port, accepted } = await rawServer();
  const socket = connect(port);
  socket.write('send me a lot');
  await arrived(() => accepted[0]?.chunks.length === 1);
  const entry = accepted[0]!;
  const calls = countNoDelay(entry.client);
  socket.pause();
  entry.writes.write(Buffer.alloc(8 * 1024 * 1024, 1));
  expect(entry.writes.queued).toBe(true);
  expect(calls).toEqual([true]);
  entry.writes.write(Buffer.from('more'));
  expect(calls).toEqual([true]);
});
