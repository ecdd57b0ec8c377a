// Writes that go straight to a socket's handle when nothing is queued ahead of them, instead of
// through the socket's Writable stream. `socket.write` makes a request object from a C++ template
// for every write, runs the stream's bookkeeping and schedules a callback, even when the kernel
// takes the bytes at once, which for the edge's small heads and answers is nearly always: measured
// on the bench machine, ~0.5 µs of the edge's ~4 µs of user time per keep-alive request
// (docs/edge.md). Here a write the kernel takes whole reuses one request object (one for all
// sockets) and costs the syscall and little else.
//
// What the kernel does not take, libuv queues behind the socket's earlier writes, in order; the
// request object is then bound to it, kept with the bytes until libuv is done, and the next write
// gets a new one. Writes go through the stream whenever it holds bytes of its own (they would
// otherwise jump ahead of them), while the socket connects, or once it is ending; a stream write
// after a direct one is ordered behind it by libuv in the same way, and so is the stream's
// shutdown on `end()`.
//
// This uses Node's stream_wrap binding (`process.binding`, deprecated but kept: DEP0111 is
// documentation-only) and the socket's `_handle`, both stable since Node 12. Where either is
// missing, or deprecations throw, every write goes through the stream. A direct write does not
// refresh the socket's `setTimeout` as a stream write does: the edge's connections keep their
// timeouts in their own sweep (proxy.ts), and the TCP routes, which use socket timeouts, write
// through the stream.
import type net from 'node:net';
import type { RawClient } from './raw-client.js';
import { getSystemErrorName } from 'node:util';

/** Node's WriteWrap: C++ binds a write to it when libuv has to queue the write. */
interface WriteRequest {
  oncomplete: ((this: WriteRequest, status: number) => void) | undefined;
  /** the bytes, kept alive while libuv holds a pointer into them */
  buffer: Buffer | undefined;
  writes: DirectWrites | undefined;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteRequest;
  /** written by every handle write: [kLastWriteWasAsync] is 1 when libuv queued part of it */
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

interface WritableHandle {
  writeBuffer(request: WriteRequest, bytes: Uint8Array): number;
}

/**
 * Node's stream_wrap binding, as far as it is there: what each user needs of it (here, and
 * raw-client.ts) is checked by that user. Undefined where it cannot be had.
 */
export const streamWrap: Readonly<Record<string, unknown>> | undefined = (() => {
  // under --throw-deprecation with --pending-deprecation the warning would end the process
  if (process.throwDeprecation) return undefined;
  try {
    return (process as unknown as { binding(name: string): Record<string, unknown> }).binding('stream_wrap');
  } catch {
    // a Node without the binding
    return undefined;
  }
})();

const binding: StreamWrapBinding | undefined =
  typeof streamWrap?.WriteWrap === 'function' && streamWrap.streamBaseState instanceof Int32Array && typeof streamWrap.kLastWriteWasAsync === 'number'
    ? (streamWrap as unknown as StreamWrapBinding)
    : undefined;

/**
 * A request object no write is bound to, for the next direct write on any socket: a write the
 * kernel takes whole leaves it untouched, so one serves them all; a queued write keeps its own.
 */
let spare: WriteRequest | undefined;

/** Whether direct writes are available in this Node (else DirectWrites writes through the stream). */
export const DIRECT_WRITES = binding !== undefined;

function writeError(status: number): Error {
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`write ${code}`), { code, errno: status, syscall: 'write' });
}

function onDirectWriteDone(this: WriteRequest, status: number): void {
  const writes = this.writes!;
  const size = this.buffer!.length;
  this.writes = undefined;
  this.buffer = undefined;
  writes.done(status, size);
}

/**
 * Writes held to the end of the event loop's turn (`write(bytes, true)`), released together by one
 * setImmediate, which runs right after the turn's I/O callbacks. Written as they are read, each
 * write to a sleeping instance wakes it, and where the instance shares the edge's core it runs at
 * once and the edge waits: the instance then answers a request or two per wake-up, and each
 * connection of `Connection: close` traffic has its writes and its close in turns of their own. A
 * proxy that handles a turn's reads first and writes after (HAProxy) wakes the instance and the
 * client once per batch. Measured on the bench machines: ~10 % more connections per second under
 * `Connection: close`; keep-alive, half the edge's preemptions and ~3 % more requests per second
 * on one VM, within the noise on another (docs/edge.md).
 */
const holding: DirectWrites[] = [];
let releaseScheduled = false;

function releaseHeld(): void {
  releaseScheduled = false;
  releaseHeldWrites();
}

/**
 * Writes what is held now, as the turn's end does. For code that runs without turns of the event
 * loop (bench:edge-engine drives connections in a loop); the scheduled release then finds nothing.
 */
export function releaseHeldWrites(): void {
  // a release may start holding again (an owner's action writes): that waits for the next turn
  for (const writes of holding.splice(0)) writes.release();
}

/** At most this many bytes wait for a turn's end: past it, what is held goes now and the rest writes through (a body streaming through), with backpressure. */
const MAX_HELD = 16 * 1024;

/** Who is told when a socket's queued writes are all out, after a write returned false. */
export interface WritesOwner {
  onWritesDrained(): void;
}

/**
 * One socket's writes. A write returns false, as `socket.write` does, once the bytes waiting to
 * go out reach the socket's high-water mark (64 KiB by default in Node 24): the caller then holds
 * off its source, and its owner's `onWritesDrained` is called once everything is out.
 */
export class DirectWrites {
  /** direct writes libuv queued and has not finished, and their bytes (at most: the kernel took part of them) */
  private pending = 0;
  private pendingBytes = 0;
  /** a write returned false: tell the owner once nothing is queued */
  private waiting = false;
  /** for stream writes: each one's completion may be the one that empties the queue */
  private afterStreamWrite: (() => void) | undefined;
  /** the bytes held to the end of this turn (copies, unless given), in order; undefined when none are */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  /** what waits for the held bytes to be written (a close) */
  private afterRelease: (() => void) | undefined;
  /** a raw client whose TCP_NODELAY waits (RawClient.noDelayDeferred): set before its second direct write, or once a write queues */
  private noDelayDeferred: RawClient | undefined;
  private wroteOnce = false;

  constructor(
    private readonly socket: net.Socket | RawClient,
    /** an object rather than a callback: `Connection: close` traffic makes one of these per request */
    private readonly owner: WritesOwner,
    /** false: always through the stream (the fallback, and its tests) */
    private readonly direct = DIRECT_WRITES,
  ) {
    if ((socket as RawClient).noDelayDeferred === true) this.noDelayDeferred = socket as RawClient;
  }

  /** Whether bytes written may still be held (by the stream or by libuv): a lent chunk must then stay as it is. */
  get queued(): boolean {
    return this.pending > 0 || this.socket.writableLength > 0;
  }

  /**
   * Writes `bytes`; false when enough wait to go out that the caller should hold off until told.
   * `untilTurnEnd`: a small write may wait for the end of this event-loop turn (see `holding`);
   * once one waits, every later write of the turn does too, so they stay in order. Held bytes are
   * copied, so a lent chunk is free again at once, unless `given`: the caller hands them over and
   * never changes them (a head built for this write).
   */
  write(bytes: Buffer, untilTurnEnd = false, given = false): boolean {
    if (this.held !== undefined) {
      if (this.heldBytes + bytes.length <= MAX_HELD) {
        this.held.push(given ? bytes : Buffer.from(bytes));
        this.heldBytes += bytes.length;
        return true;
      }
      // too much for one turn: what is held goes first, then this, as any write (release() still runs what waits)
      this.writeHeld();
      return this.writeNow(bytes);
    }
    if (untilTurnEnd && this.direct && bytes.length <= MAX_HELD && !this.queued) {
      this.held = [given ? bytes : Buffer.from(bytes)];
      this.heldBytes = bytes.length;
      holding.push(this);
      if (!releaseScheduled) {
        releaseScheduled = true;
        setImmediate(releaseHeld);
      }
      return true;
    }
    return this.writeNow(bytes);
  }

  /** Runs `action` once the held bytes are written: at once when none are held. */
  whenReleased(action: () => void): void {
    if (this.held === undefined) return action();
    const before = this.afterRelease;
    this.afterRelease = before === undefined ? action : () => (before(), action());
  }

  /** The turn is over: the held bytes go out (nowhere, if the socket was closed meanwhile), then what waited. */
  release(): void {
    const action = this.afterRelease;
    this.afterRelease = undefined;
    this.writeHeld();
    action?.();
  }

  /** Writes what is held now, before the turn ends: for a socket about to be destroyed, which would otherwise lose it. */
  flush(): void {
    this.writeHeld();
  }

  /** The held bytes to the socket (nowhere, if it was closed meanwhile); at most MAX_HELD, so what writeNow says of backpressure the next write hears. */
  private writeHeld(): void {
    const held = this.held;
    this.held = undefined;
    this.heldBytes = 0;
    if (held !== undefined && !this.socket.destroyed) for (const bytes of held) this.writeNow(bytes);
  }

  private writeNow(bytes: Buffer): boolean {
    const socket = this.socket;
    const handle = (socket as unknown as { _handle?: WritableHandle | null })._handle;
    if (!this.direct || handle == null || socket.writableLength > 0 || socket.connecting || !socket.writable) return this.viaStream(bytes);
    if (this.noDelayDeferred !== undefined && this.wroteOnce) this.setNoDelay();
    const request = spare ?? new binding!.WriteWrap();
    spare = request;
    const status = handle.writeBuffer(request, bytes);
    if (status !== 0) {
      // (a write that failed after libuv took part of it had a request bound and dropped: not reused)
      spare = undefined;
      socket.destroy(writeError(status));
      return false;
    }
    if (binding!.streamBaseState[binding!.kLastWriteWasAsync] === 0) {
      if (this.noDelayDeferred !== undefined) this.wroteOnce = true;
      return true;
    }
    // what libuv sends later goes out without waiting for acknowledgements, as any later write
    if (this.noDelayDeferred !== undefined) this.setNoDelay();
    // libuv queued the rest: the request is bound to that write until it completes
    spare = undefined;
    request.buffer = bytes;
    request.writes = this;
    request.oncomplete = onDirectWriteDone;
    this.pending++;
    this.pendingBytes += bytes.length;
    if (this.pendingBytes < socket.writableHighWaterMark) return true;
    this.waiting = true;
    return false;
  }

  private setNoDelay(): void {
    this.noDelayDeferred!.setNoDelayNow();
    this.noDelayDeferred = undefined;
  }

  private viaStream(bytes: Buffer): boolean {
    // (rare once connected: only while the stream still holds bytes from before)
    this.afterStreamWrite ??= () => this.check();
    if (this.socket.write(bytes, this.afterStreamWrite)) return true;
    this.waiting = true;
    return false;
  }

  /** A queued direct write of `size` bytes finished (status < 0: it failed, and the socket is done). */
  done(status: number, size: number): void {
    this.pending--;
    this.pendingBytes -= size;
    if (status < 0) {
      this.socket.destroy(writeError(status));
      return;
    }
    this.check();
  }

  private check(): void {
    if (!this.waiting || this.queued) return;
    this.waiting = false;
    this.owner.onWritesDrained();
  }
}
