import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { DIRECT_WRITES, DirectWrites } from './direct-writes.js';

const open: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const socket of open.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

/** A connection being made over loopback: `ours` writes, the server's side (paused until read) arrives as `accepted`. */
async function connecting(): Promise<{ ours: net.Socket; accepted: Promise<[net.Socket]> }> {
  const server = net.createServer({ pauseOnConnect: true });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const ours = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  open.push(ours);
  return { ours, accepted };
}

/** A connected pair: `ours` writes, `peer` reads (paused until asked). */
async function pair(): Promise<{ ours: net.Socket; peer: net.Socket }> {
  const { ours, accepted } = await connecting();
  await once(ours, 'connect');
  const [peer] = await accepted;
  open.push(peer);
  return { ours, peer };
}

/** Chunk `i` of `size` bytes, each byte naming its chunk, so any reordering shows. */
const chunk = (i: number, size: number) => Buffer.alloc(size, i % 251);

function readAll(peer: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  peer.on('data', (data: Buffer) => parts.push(data));
  peer.resume();
  return new Promise((resolve) => peer.on('end', () => resolve(Buffer.concat(parts))));
}

it('goes around the stream on this Node (a Node without the binding would fall back, slower)', () => {
  expect(DIRECT_WRITES).toBe(true);
});

describe.each([
  ['direct', true],
  ['through the stream', false],
])('DirectWrites, %s', (_, direct) => {
  it('delivers every byte in order when the kernel cannot take them all, and says when it has caught up', async () => {
    const { ours, peer } = await pair();
    let drains = 0;
    const writes = new DirectWrites(ours, { onWritesDrained: () => drains++ }, direct);
    const sent: Buffer[] = [];
    let refused = 0;
    // 16 MiB to a peer that is not reading: far past what the kernel buffers
    for (let i = 0; i < 256; i++) {
      const bytes = chunk(i, 64 * 1024);
      sent.push(bytes);
      if (!writes.write(bytes)) refused++;
    }
    expect(refused).toBeGreaterThan(0);
    expect(writes.queued).toBe(true);
    const received = readAll(peer);
    await new Promise<void>((resolve) => {
      const wait = () => (drains > 0 && !writes.queued ? resolve() : setTimeout(wait, 5));
      wait();
    });
    expect(drains).toBe(1);
    ours.end();
    expect((await received).equals(Buffer.concat(sent))).toBe(true);
  });

  it('asks the caller to wait only once the bytes waiting to go out reach the high-water mark, as socket.write does', async () => {
    const { ours } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} }, direct);
    let firstQueued = -1;
    let firstRefused = -1;
    for (let i = 0; i < 100_000 && firstRefused < 0; i++) {
      const accepted = writes.write(chunk(i, 1024));
      if (firstQueued < 0 && writes.queued) firstQueued = i;
      if (!accepted) firstRefused = i;
    }
    expect(firstQueued).toBeGreaterThanOrEqual(0);
    // 1 KiB writes: the mark (64 KiB in Node 24) is reached that many writes after the first one that waited
    const marks = ours.writableHighWaterMark / 1024;
    expect(firstRefused - firstQueued).toBeGreaterThanOrEqual(marks - 2);
    expect(firstRefused - firstQueued).toBeLessThanOrEqual(marks);
  });

  it('lets end() go out after queued writes, not before them', async () => {
    const { ours, peer } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} }, direct);
    const sent: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      sent.push(chunk(i, 100 * 1024));
      writes.write(sent[i]!);
    }
    ours.end();
    expect((await readAll(peer)).length).toBe(Buffer.concat(sent).length);
  });

  it('closes the socket with the write error once the peer is gone, without throwing', async () => {
    const { ours, peer } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} }, direct);
    const errors: string[] = [];
    ours.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    peer.resetAndDestroy();
    // (not events.once: it rejects on the 'error' that comes first)
    const closed = new Promise((resolve) => ours.once('close', resolve));
    // the reset arrives after a write or two
    for (let i = 0; i < 1000 && !ours.destroyed; i++) {
      writes.write(chunk(i, 1024));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await closed;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/EPIPE|ECONNRESET/);
  });
});

it('writes through the stream while the socket connects, then directly, in order', async () => {
  const { ours, accepted } = await connecting();
  const writes = new DirectWrites(ours, { onWritesDrained: () => {} });
  const sent = [chunk(1, 10), chunk(2, 10)];
  // before 'connect': the stream holds them until the socket is connected
  for (const bytes of sent) writes.write(bytes);
  expect(writes.queued).toBe(true);
  await once(ours, 'connect');
  for (let i = 3; i < 10; i++) {
    sent.push(chunk(i, 10));
    writes.write(sent.at(-1)!);
  }
  const [peer] = await accepted;
  open.push(peer);
  const received = readAll(peer);
  ours.end();
  expect((await received).equals(Buffer.concat(sent))).toBe(true);
});

describe('DirectWrites held to the end of the turn', () => {
  it('holds small writes until the turn ends, keeps later writes behind them, then runs what waited', async () => {
    const { ours, peer } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} });
    const lent = Buffer.from('first ');
    expect(writes.write(lent, true)).toBe(true);
    // a copy is held: the lender may reuse its memory at once
    lent.fill('x');
    expect(writes.queued).toBe(false);
    // not asked to wait, but written after the held bytes all the same
    writes.write(Buffer.from('second '));
    const order: string[] = [];
    writes.whenReleased(() => order.push('released'));
    // nothing has reached the kernel yet in this turn
    expect(ours.bytesWritten).toBe(0);
    setImmediate(() => order.push('immediate'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['released', 'immediate']);
    writes.write(Buffer.from('third'));
    ours.end();
    expect((await readAll(peer)).toString()).toBe('first second third');
  });

  it('runs an action at once when nothing is held, and writes large bytes now', async () => {
    const { ours, peer } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} });
    let ran = false;
    writes.whenReleased(() => (ran = true));
    expect(ran).toBe(true);
    const large = chunk(7, 64 * 1024);
    writes.write(large, true);
    expect(ours.bytesWritten).toBeGreaterThan(0);
    ours.end();
    expect((await readAll(peer)).equals(large)).toBe(true);
  });

  it('writes what is held at once when flushed, so a socket destroyed in the same turn still sends it', async () => {
    const { ours, peer } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} });
    writes.write(Buffer.from('last words'), true);
    writes.flush();
    ours.destroy();
    expect((await readAll(peer)).toString()).toBe('last words');
  });

  it('drops what is held when the socket is closed before the turn ends', async () => {
    const { ours } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} });
    writes.write(Buffer.from('never sent'), true);
    let ran = false;
    writes.whenReleased(() => (ran = true));
    ours.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toBe(true);
    expect(ours.bytesWritten).toBe(0);
  });
});

describe('DirectWrites held to the end of the turn, past what a turn may hold', () => {
  it('writes what is held and then the rest at once, in order, and says when to hold off', async () => {
    const { ours, peer } = await pair();
    const writes = new DirectWrites(ours, { onWritesDrained: () => {} });
    const sent: Buffer[] = [Buffer.from('head ')];
    writes.write(sent[0]!, true);
    expect(ours.bytesWritten).toBe(0);
    // a body streaming through in the same turn: 16 MiB to a peer that is not reading
    let refused = 0;
    for (let i = 0; i < 256; i++) {
      const bytes = chunk(i, 64 * 1024);
      sent.push(bytes);
      if (!writes.write(bytes, true)) refused++;
    }
    expect(ours.bytesWritten).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    let ran = false;
    writes.whenReleased(() => (ran = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toBe(true);
    ours.end();
    expect((await readAll(peer)).equals(Buffer.concat(sent))).toBe(true);
  });
});
