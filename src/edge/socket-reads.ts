// How the edge reads its sockets: into a buffer each socket owns (Node's `onread`), not a buffer
// Node allocates for every read and pushes through a Readable stream. Measured on the bench
// machine, a bare Node pipe costs 4.2 µs of CPU per request with 'data' events and 2.3 µs with
// this; the edge does it for both the client's and the instance's side of every exchange.
//
// A chunk handed to a reader is only valid during the call: the socket's next read lands in the
// same memory. A reader that keeps one (a write that had to queue, bytes held for later) calls
// `keepChunk()`, and the socket reads into a fresh buffer from then on. Buffers are per socket,
// never shared between sockets: another socket could otherwise read into a kept chunk's memory.
import net from 'node:net';
import { RAW_CLIENTS, RawClient, type TcpHandle } from './raw-client.js';

/** Small messages fit in one read; a socket that fills its buffer gets a larger one while it keeps filling it (a body streaming through). */
const SMALL = 16 * 1024;
const LARGE = 64 * 1024;
/** Buffers of closed sockets kept for new ones: `Connection: close` traffic opens sockets at a high rate. */
const MAX_SPARE = 256;
const spare: Buffer[] = [];

/** set by keepChunk() during a read callback; the socket whose callback it is takes it over */
let kept = false;

/** The chunk just handed to a reader stays referenced: its socket must not read into that memory again. */
export function keepChunk(): void {
  kept = true;
}

/** Node's onread options: the buffer for the next read, and the callback given each read. */
export interface OnRead {
  buffer(): Buffer;
  callback(length: number, buffer: Uint8Array): boolean;
}

/** Whoever takes a socket's chunks. */
export interface ChunkReader {
  onChunk(chunk: Buffer): void;
}

const NO_READER: ChunkReader = { onChunk: () => {} };

/** One socket's reads, given to `reader`, which pauses the socket itself when it must wait. */
export class SocketReads {
  private current: Buffer | undefined;
  private memory: ArrayBufferLike | undefined;
  private filled = false;
  /** the last chunk given out was kept: the next read needs other memory */
  private keep = false;
  /** for the socket's options: Node calls these as plain functions, not as methods of this object */
  readonly onread: OnRead = { buffer: () => this.buffer(), callback: (length, buffer) => this.callback(length, buffer) };

  constructor(public reader: ChunkReader = NO_READER) {}

  private buffer(): Buffer {
    let buffer = this.current;
    const size = this.filled ? LARGE : SMALL;
    // a body streaming through fills its buffer: the next is large; a read that does not fill a
    // large one ends the stream, and a socket kept open (a pooled instance connection) goes back
    // to a small one
    if (buffer === undefined || this.keep || buffer.length !== size) {
      this.recycle();
      this.keep = false;
      buffer = size === LARGE ? Buffer.allocUnsafeSlow(LARGE) : (spare.pop() ?? Buffer.allocUnsafeSlow(SMALL));
      this.current = buffer;
      this.memory = buffer.buffer;
    }
    return buffer;
  }

  private callback(length: number, buffer: Uint8Array): boolean {
    this.filled = length === buffer.length;
    // The keep is this socket's own, recorded around its reader's call: a keep left from outside
    // a read is dropped, and a socket made during the call (its first buffer is asked for at once)
    // cannot take this one's.
    kept = false;
    // a buffer of its own (allocUnsafeSlow): the view starts at the memory's start
    this.reader.onChunk(Buffer.from(this.memory!, 0, length));
    this.keep = kept;
    kept = false;
    return true;
  }

  /** The socket is closed: its buffer can serve a new one. */
  release(): void {
    this.recycle();
    this.current = undefined;
    this.reader = NO_READER;
  }

  /** The current buffer to the free list, unless a reader kept it (it is theirs) or it is a large one. */
  private recycle(): void {
    const buffer = this.current;
    if (buffer !== undefined && !this.keep && buffer.length === SMALL && spare.length < MAX_SPARE) spare.push(buffer);
  }
}

/** net.Server's options and settings that only its own accept applies. */
interface ServerSettings {
  maxConnections?: number | null;
  blockList?: unknown;
  pauseOnConnect?: boolean;
  keepAlive?: boolean;
}

const isSet = (value: unknown): boolean => value !== undefined && value !== null && value !== false;

/** Checked at every accept: a server's settings may change while it listens. */
function nodeHandles(server: net.Server): boolean {
  const settings = server as unknown as ServerSettings;
  return isSet(settings.maxConnections) || isSet(settings.blockList) || isSet(settings.pauseOnConnect) || isSet(settings.keepAlive);
}

interface ListeningHandle {
  onconnection: (error: number, clientHandle: unknown) => void;
}

/**
 * Takes over a server's accepts: `accept` gets each accepted TCP handle. Node's net.Server makes
 * accepted sockets without `onread`, and only its listening handle's `onconnection` callback (the
 * same since Node 0.x) sees a connection before its socket is made. Returns false where the
 * handle is not there to take over: the server then emits 'connection' as usual. A server with
 * `maxConnections`, a `blockList`, `pauseOnConnect` or `keepAlive` has its connections made by
 * net.Server, which applies them ('connection' again). Not published: the `net.server.socket`
 * diagnostics channel. Call it once the server listens.
 */
function takeAccepts(server: net.Server, noDelay: boolean, accept: (clientHandle: TcpHandle) => void): boolean {
  const handle = (server as unknown as { _handle?: ListeningHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.onconnection !== 'function') return false;
  const nodeAccept = handle.onconnection;
  handle.onconnection = function (this: ListeningHandle, error: number, clientHandle: unknown): void {
    // a failed accept (EMFILE …) goes Node's way: an 'error' event on the server; so does a
    // server set up for what this accept does not do (a connection limit and its 'drop' event, a
    // block list, pausing on connect, TCP keep-alive): those connections read through 'data' events
    if (error !== 0 || clientHandle === undefined || nodeHandles(server)) return nodeAccept.call(this, error, clientHandle);
    if (noDelay) (clientHandle as TcpHandle).setNoDelay(true);
    accept(clientHandle as TcpHandle);
  };
  return true;
}

/**
 * Accepts a server's connections itself (takeAccepts) so that their sockets read through
 * SocketReads. `accepted` must set `reads.reader` and call `reads.release()` once the socket closes.
 */
export function acceptWithOwnReads(server: net.Server, options: { noDelay: boolean; allowHalfOpen: boolean }, accepted: (socket: net.Socket, reads: SocketReads) => void): boolean {
  return takeAccepts(server, options.noDelay, (clientHandle) => {
    const reads = new SocketReads();
    // the accepted TCP handle, taken by the constructor as net.Server's own accept passes it
    const socket = new net.Socket({ handle: clientHandle as unknown as net.BoundSocket, allowHalfOpen: options.allowHalfOpen, readable: true, writable: true, onread: reads.onread });
    // net.Server's own bookkeeping, which Socket#destroy undoes: server.close() waits for the
    // connection, getConnections() counts it
    (server as unknown as { _connections: number })._connections++;
    // set one by one, as net.Server does: no object made per connection to copy them from
    const owned = socket as net.Socket & { server: net.Server; _server: net.Server };
    owned.server = server;
    owned._server = server;
    accepted(socket, reads);
  });
}

/**
 * Accepts a server's connections as RawClients (raw-client.ts): half-open, read through
 * SocketReads, counted by the server as its own are. `accepted` sets `reads.reader` and the
 * client's owner, which calls `reads.release()` once the client closes. Without the binding
 * RawClient needs, nothing is taken over (false), as where takeAccepts cannot.
 */
export function acceptRawClients(server: net.Server, noDelay: boolean, accepted: (client: RawClient, reads: SocketReads) => void): boolean {
  if (!RAW_CLIENTS) return false;
  // TCP_NODELAY waits for the connection's second write (RawClient.noDelayDeferred)
  return takeAccepts(server, false, (clientHandle) => {
    const reads = new SocketReads();
    const client = new RawClient(clientHandle, reads, server);
    client.noDelayDeferred = noDelay;
    try {
      accepted(client, reads);
    } catch (error) {
      // counted and reading, with no owner to ever close it
      client.destroy();
      throw error;
    }
  });
}
