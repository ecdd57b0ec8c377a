// Sockets reading into memory of their own (socket-reads.ts), over real loopback connections: a
// chunk a reader keeps is never read into again, and accepted sockets read, half-close and close
// as net.Server's own would.
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { acceptWithOwnReads, keepChunk, SocketReads } from './socket-reads.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const close of cleanup.splice(0)) close();
});

function listening(onSocket: (socket: net.Socket) => void = () => {}): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, onSocket);
  cleanup.push(() => {
    if (server.listening) server.close();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
}

async function arrived(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 500 && !condition(); n++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

it('never reads into a chunk a reader kept, on its own socket or another', async () => {
  const peers: net.Socket[] = [];
  const { port } = await listening((socket) => peers.push(socket));
  const kept: Buffer[] = [];
  const seen: string[][] = [[], []];
  const sockets = [0, 1].map((n) => {
    const reads = new SocketReads({
      onChunk(chunk) {
        seen[n]!.push(chunk.toString());
        // socket 0 keeps every chunk, as a write that had to queue would
        if (n === 0) {
          kept.push(chunk);
          keepChunk();
        }
      },
    });
    const socket = net.connect({ port, host: '127.0.0.1', onread: reads.onread });
    socket.on('close', () => reads.release());
    cleanup.push(() => socket.destroy());
    return socket;
  });
  await arrived(() => peers.length === 2);
  // the server's sockets come in connection order only by chance: match them by local port
  const peerOf = (socket: net.Socket) => peers.find((peer) => peer.remotePort === socket.localPort)!;
  for (let round = 0; round < 20; round++) {
    peerOf(sockets[0]!).write(`zero-${round};`);
    await arrived(() => seen[0]!.join('').includes(`zero-${round};`));
    peerOf(sockets[1]!).write(`one-${round};`);
    await arrived(() => seen[1]!.join('').includes(`one-${round};`));
  }
  expect(kept.map((chunk) => chunk.toString()).join('')).toBe(Array.from({ length: 20 }, (_, round) => `zero-${round};`).join(''));
});

it('keeps a kept chunk when a socket is made while its reader runs (a new instance connection for a waiting request)', async () => {
  const peers: net.Socket[] = [];
  const { port } = await listening((socket) => peers.push(socket));
  const kept: Buffer[] = [];
  let got = '';
  const reads = new SocketReads({
    onChunk(chunk) {
      got += chunk.toString();
      if (kept.length > 0) return;
      kept.push(chunk);
      keepChunk();
      // Node asks a new socket for its first buffer at once, inside this call
      const other = net.connect({ port, host: '127.0.0.1', onread: new SocketReads().onread });
      cleanup.push(() => other.destroy());
    },
  });
  const socket = net.connect({ port, host: '127.0.0.1', onread: reads.onread });
  cleanup.push(() => socket.destroy());
  await arrived(() => peers.length >= 1);
  const peer = peers.find((p) => p.remotePort === socket.localPort)!;
  peer.write('first');
  await arrived(() => got.includes('first'));
  peer.write('XXXXX');
  await arrived(() => got.includes('XXXXX'));
  expect(kept[0]!.toString()).toBe('first');
});

it('reads a body streaming through into a large buffer, and goes back to a small one when it ends', async () => {
  const peers: net.Socket[] = [];
  const { port } = await listening((socket) => peers.push(socket));
  const sizes: number[] = [];
  let received = 0;
  const socket = net.connect({ port, host: '127.0.0.1', onread: new SocketReads({ onChunk: (chunk) => (sizes.push(chunk.buffer.byteLength), (received += chunk.length)) }).onread });
  cleanup.push(() => socket.destroy());
  await arrived(() => peers.length === 1);
  const body = 4 * 1024 * 1024;
  peers[0]!.write(Buffer.alloc(body, 1));
  await arrived(() => received === body);
  peers[0]!.write('small');
  await arrived(() => received === body + 5);
  expect(sizes[0]).toBe(16 * 1024);
  expect(sizes).toContain(64 * 1024);
  expect(sizes.at(-1)).toBe(16 * 1024);
});

it('counts accepted connections as net.Server does: close() waits for them', async () => {
  const { server, port } = await listening();
  const accepted: net.Socket[] = [];
  acceptWithOwnReads(server, { noDelay: true, allowHalfOpen: true }, (socket, reads) => {
    accepted.push(socket);
    socket.on('close', () => reads.release());
  });
  const client = net.connect(port, '127.0.0.1');
  cleanup.push(() => client.destroy());
  await arrived(() => accepted.length === 1);
  expect(await new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count)))).toBe(1);
  let closed = false;
  server.close(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(closed).toBe(false);
  accepted[0]!.destroy();
  await arrived(() => closed);
});

it('accepts connections whose sockets read through their own buffers, half-close and close', async () => {
  const { server, port } = await listening(() => {
    throw new Error('the server made the socket itself');
  });
  const received: string[] = [];
  let ended = false;
  let released = false;
  const taken = acceptWithOwnReads(server, { noDelay: true, allowHalfOpen: true }, (socket, reads) => {
    reads.reader = { onChunk: (chunk) => received.push(chunk.toString()) };
    socket.on('end', () => {
      ended = true;
      // half-open: the client finished sending and still reads the answer
      socket.end(`got ${received.join('')}`);
    });
    socket.on('close', () => {
      reads.release();
      released = true;
    });
  });
  expect(taken).toBe(true);
  const answer = await new Promise<string>((resolve, reject) => {
    const client = net.connect(port, '127.0.0.1', () => client.end('hello edge'));
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString()));
    client.on('end', () => resolve(text));
    client.on('error', reject);
  });
  expect(answer).toBe('got hello edge');
  expect(ended).toBe(true);
  await arrived(() => released);
});

it("leaves a server's connection limit to net.Server: over it, connections are dropped with 'drop', under it, they arrive as 'connection'", async () => {
  const viaNode: net.Socket[] = [];
  const { server, port } = await listening((socket) => viaNode.push(socket));
  server.maxConnections = 1;
  const viaOwnReads: net.Socket[] = [];
  acceptWithOwnReads(server, { noDelay: true, allowHalfOpen: true }, (socket) => viaOwnReads.push(socket));
  let dropped = 0;
  server.on('drop', () => dropped++);
  const first = net.connect(port, '127.0.0.1');
  cleanup.push(() => first.destroy());
  await arrived(() => viaNode.length === 1);
  const second = net.connect(port, '127.0.0.1');
  cleanup.push(() => second.destroy());
  const secondClosed = new Promise((resolve) => second.on('close', resolve));
  second.on('error', () => {});
  await secondClosed;
  expect(dropped).toBe(1);
  expect(viaOwnReads).toHaveLength(0);
  for (const socket of viaNode) socket.destroy();
});
