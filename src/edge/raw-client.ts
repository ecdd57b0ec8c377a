// A client connection of the HTTP listener driven through its libuv handle, without a net.Socket.
// `Connection: close` traffic makes and tears down one connection per request, and a net.Socket
// is most of that cost in user time: the Duplex and its two stream states, its listeners, the
// destroy and close ticks. Measured on the bench machine with a bare close-mode proxy: 17–23 µs
// of user CPU per connection with a net.Socket, 12–13 µs without (docs/edge.md).
//
// The edge needs little of a socket: reads into a buffer of its own (SocketReads), writes
// (DirectWrites, which this serves as it serves a net.Socket), pause and resume, a half-close from
// the client, closing now or once written, and the peer's address. Those are the handle's own
// methods, which net.Socket calls too: readStart/readStop, onread with streamBaseState, shutdown
// with a ShutdownWrap, close. Node's internals, as in direct-writes.ts: where the binding is
// missing, connections are made as net.Sockets (socket-reads.ts).
import type net from 'node:net';
import { DIRECT_WRITES, streamWrap } from './direct-writes.js';
import type { SocketReads } from './socket-reads.js';

/** Node's TCP handle as its own methods show it (src/stream_base.cc, src/tcp_wrap.cc). */
export interface TcpHandle {
  /** a function: C++ refuses anything else */
  onread: (this: TcpHandle, arrayBuffer: ArrayBuffer | undefined) => Uint8Array | undefined;
  useUserBuffer(buffer: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  writeBuffer(request: unknown, bytes: Uint8Array): number;
  shutdown(request: ShutdownRequest): number;
  close(callback: () => void): void;
  getpeername(out: { address?: string }): number;
  setNoDelay(on: boolean): number;
  /** set here: whose handle it is, for the callbacks C++ makes with the handle as `this` */
  client?: RawClient;
}

interface ShutdownRequest {
  oncomplete: ((this: ShutdownRequest, status: number) => void) | undefined;
  handle: TcpHandle | undefined;
}

interface Binding {
  ShutdownWrap: new () => ShutdownRequest;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
}

const binding: Binding | undefined =
  typeof streamWrap?.ShutdownWrap === 'function' && streamWrap.streamBaseState instanceof Int32Array && typeof streamWrap.kReadBytesOrError === 'number'
    ? (streamWrap as unknown as Binding)
    : undefined;

/** Whether raw client connections are available in this Node: they write only through DirectWrites' direct path. */
export const RAW_CLIENTS = binding !== undefined && DIRECT_WRITES;

/** libuv's UV_EOF */
const EOF = -4095;

/** What a raw client reports to the connection that owns it. */
export interface RawClientOwner {
  onClientEnd(): void;
  onClientClose(): void;
}

const NO_OWNER: RawClientOwner = { onClientEnd: () => {}, onClientClose: () => {} };

/** The server's own count of open connections, which server.close() waits on. */
interface CountedServer {
  _connections: number;
  _emitCloseIfDrained(): void;
}

function onRead(this: TcpHandle): Uint8Array | undefined {
  return this.client?.read(binding!.streamBaseState[binding!.kReadBytesOrError]!);
}

const noRead = (): undefined => undefined;

function onClosed(this: TcpHandle): void {
  this.client?.closed();
}

function onShutdown(this: ShutdownRequest): void {
  const client = this.handle?.client;
  this.handle = undefined;
  client?.destroy();
}

/**
 * One accepted connection, read through `reads` and closed through `destroy` or `destroySoon`.
 * The subset of net.Socket's surface the edge uses (DirectWrites included) has the same names
 * and meaning, so a ClientConnection takes either.
 */
export class RawClient {
  owner: RawClientOwner = NO_OWNER;
  /** a FIN or an error ended the reads */
  private readEnded = false;
  private reading = false;
  /** no more writes: a shutdown is queued or the handle is closing */
  private ended = false;
  destroyed = false;
  /**
   * TCP_NODELAY is wanted and not yet set: DirectWrites sets it before this connection's second
   * write, or when a write has to queue. Nagle's algorithm holds back a small segment only while
   * earlier data is unacknowledged, so a connection's first write goes out at once either way, and
   * a `Connection: close` answer written in one piece never needs the option: one setsockopt less
   * per connection (nginx sets `tcp_nodelay` only once a connection is kept alive, for the same
   * reason).
   */
  noDelayDeferred = false;
  private buffer: Uint8Array;
  /** the parts of net.Socket DirectWrites reads: nothing queues here but in libuv, and the connection is open */
  readonly writableLength = 0;
  readonly connecting = false;
  readonly writableHighWaterMark = 64 * 1024;

  constructor(
    readonly _handle: TcpHandle,
    private readonly reads: SocketReads,
    private readonly server: net.Server,
  ) {
    _handle.client = this;
    this.buffer = reads.onread.buffer();
    _handle.useUserBuffer(this.buffer);
    _handle.onread = onRead;
    (server as unknown as CountedServer)._connections++;
    this.resume();
  }

  get writable(): boolean {
    return !this.ended;
  }

  /** Sets TCP_NODELAY now, if it was deferred. */
  setNoDelayNow(): void {
    if (!this.noDelayDeferred) return;
    this.noDelayDeferred = false;
    if (!this.destroyed) this._handle.setNoDelay(true);
  }

  /** The peer's address, read when asked (one getpeername). */
  get remoteAddress(): string | undefined {
    const out: { address?: string } = {};
    return this._handle.getpeername(out) === 0 ? out.address : undefined;
  }

  /** A read of `length` bytes into the current buffer, a FIN or an error; returns the buffer for the next read. */
  read(length: number): Uint8Array | undefined {
    if (length > 0) {
      this.reads.onread.callback(length, this.buffer);
      if (this.destroyed) return undefined;
      const next = this.reads.onread.buffer();
      if (next === this.buffer) return undefined;
      this.buffer = next;
      return next;
    }
    if (length === 0) return undefined;
    this.readEnded = true;
    this.reading = false;
    if (length === EOF) {
      // half-open, as the edge's listener is: the answers still go out
      this._handle.readStop();
      this.owner.onClientEnd();
    } else this.destroy();
    return undefined;
  }

  pause(): this {
    if (this.reading && !this.destroyed) {
      this.reading = false;
      this._handle.readStop();
    }
    return this;
  }

  resume(): this {
    if (!this.reading && !this.readEnded && !this.destroyed) {
      this.reading = true;
      // as net.Socket's tryReadStart: a handle that cannot read is done
      if (this._handle.readStart() !== 0) this.destroy();
    }
    return this;
  }

  /**
   * DirectWrites writes to the handle while the client is writable, so this is reached only after
   * destroySoon or destroy: those bytes are dropped (nothing in the edge writes after either).
   * Reached while writable, the stream path is being asked for, which a raw client does not have:
   * closing says so at once rather than letting the client wait for an answer that went nowhere.
   */
  write(_bytes: Uint8Array, _callback?: (error?: Error | null) => void): boolean {
    if (!this.ended) this.destroy();
    return true;
  }

  /** Closes now; writes libuv still holds are cancelled. */
  destroy(_error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.ended = true;
    this.reading = false;
    this._handle.close(onClosed);
    return this;
  }

  /** Closes once what was written is out: a shutdown (FIN) queued behind the writes, then the close. */
  destroySoon(): void {
    if (this.destroyed) return;
    if (this.ended) return;
    this.ended = true;
    const request = new binding!.ShutdownWrap();
    request.handle = this._handle;
    request.oncomplete = onShutdown;
    if (this._handle.shutdown(request) !== 0) this.destroy();
  }

  /** The handle closed: the server's count, then the owner. */
  closed(): void {
    this._handle.onread = noRead;
    this._handle.client = undefined;
    const server = this.server as unknown as CountedServer;
    server._connections--;
    server._emitCloseIfDrained();
    const owner = this.owner;
    this.owner = NO_OWNER;
    owner.onClientClose();
  }
}
