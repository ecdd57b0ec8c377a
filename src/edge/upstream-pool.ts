// Keep-alive connections from the edge to instances, shared by both proxy modes: a request (or a
// pinned client connection) borrows one and gives it back when its exchange ended cleanly. Each
// socket gets its listeners once; who is using it is a field, not a re-registration.
import net from 'node:net';
import type { InstanceAttachment, RoutedInstance } from './routed-instance.js';
import { DirectWrites, type WritesOwner } from './direct-writes.js';
import { SocketReads, type ChunkReader } from './socket-reads.js';

/** Whoever is using an upstream connection now. */
export interface UpstreamOwner {
  /** `chunk` is only valid during the call unless the owner calls keepChunk() (socket-reads.ts) */
  onUpstreamData(chunk: Buffer): void;
  /** the instance closed its side */
  onUpstreamEnd(): void;
  onUpstreamClose(error: Error | undefined): void;
  onUpstreamConnect(): void;
  onUpstreamDrain(): void;
}

/** The owner of a connection being closed: its last events concern no one. */
export const NO_OWNER: UpstreamOwner = {
  onUpstreamData: () => {},
  onUpstreamEnd: () => {},
  onUpstreamClose: () => {},
  onUpstreamConnect: () => {},
  onUpstreamDrain: () => {},
};

export class UpstreamConnection implements ChunkReader, WritesOwner {
  owner: UpstreamOwner;
  readonly socket: net.Socket;
  /** what the edge sends the instance goes through here, not socket.write (direct-writes.ts) */
  readonly writes: DirectWrites;
  connected = false;
  /** when the connection was asked for (performance.now()), for the connect timeout */
  readonly openedAt = performance.now();
  /**
   * it has carried an exchange (borrowed from the pool, or pinned to a client whose next request
   * it now carries), so the instance may have closed it a moment ago, as its keep-alive runs out
   */
  reused = false;
  closed = false;
  /** the pool's sweep count when the connection went idle */
  idleSince = 0;
  /** its owner while in the pool, made once */
  idleOwner: UpstreamOwner | undefined;
  private error: Error | undefined;

  constructor(
    readonly instance: RoutedInstance,
    owner: UpstreamOwner,
  ) {
    this.owner = owner;
    const reads = new SocketReads(this);
    const socket = net.connect({ host: instance.address, port: instance.port, noDelay: true, onread: reads.onread });
    this.socket = socket;
    this.writes = new DirectWrites(socket, this);
    socket.on('connect', () => {
      this.connected = true;
      this.owner.onUpstreamConnect();
    });
    socket.on('end', () => this.owner.onUpstreamEnd());
    socket.on('error', (error) => {
      this.error = error;
    });
    socket.on('close', () => {
      this.closed = true;
      reads.release();
      this.owner.onUpstreamClose(this.error);
    });
  }

  onChunk(chunk: Buffer): void {
    this.owner.onUpstreamData(chunk);
  }

  onWritesDrained(): void {
    this.owner.onUpstreamDrain();
  }

  /** Closes the connection, after what was written to it this turn; its remaining events go nowhere. */
  destroy(): void {
    this.owner = NO_OWNER;
    this.writes.flush();
    this.socket.destroy();
  }
}

/** how long a connection to an instance may take to open, by default: HAProxy's usual `timeout connect` */
export const DEFAULT_CONNECT_MS = 5_000;

export interface UpstreamPoolOptions {
  /** below Node's default keepAliveTimeout (5 s), so the edge, not the instance, closes idle sockets */
  readonly idleTimeoutMs: number;
  readonly maxIdlePerInstance: number;
}

export const DEFAULT_POOL_OPTIONS: UpstreamPoolOptions = { idleTimeoutMs: 4_000, maxIdlePerInstance: 512 };

/** An instance's idle connections; let go of all at once when the instance leaves. */
class IdleSockets implements InstanceAttachment {
  readonly connections: UpstreamConnection[] = [];
  attachmentSlot = -1;
  constructor(
    private readonly pool: UpstreamPool,
    readonly instance: RoutedInstance,
  ) {}

  drop(connection: UpstreamConnection): void {
    const at = this.connections.indexOf(connection);
    if (at >= 0) this.connections.splice(at, 1);
    connection.destroy();
  }
  release(): void {
    this.cut();
  }
  cut(): void {
    for (const connection of this.connections.splice(0)) connection.destroy();
    this.pool.forget(this);
  }
}

/** The owner of one idle socket: anything but silence means it cannot be reused. */
class IdleOwner implements UpstreamOwner {
  constructor(
    private readonly idle: IdleSockets,
    private readonly connection: UpstreamConnection,
  ) {}
  onUpstreamData(): void {
    this.idle.drop(this.connection);
  }
  onUpstreamEnd(): void {
    this.idle.drop(this.connection);
  }
  onUpstreamClose(): void {
    this.idle.drop(this.connection);
  }
  onUpstreamDrain(): void {}
  onUpstreamConnect(): void {}
}

/**
 * Idle connections expire by a once-a-second sweep rather than a timer each: arming a timer on
 * every give-back costs more than the request it serves.
 */
export class UpstreamPool {
  private readonly idle = new Map<RoutedInstance, IdleSockets>();
  private sweeps = 0;

  constructor(private readonly options: UpstreamPoolOptions = DEFAULT_POOL_OPTIONS) {}

  /** A new connection (connecting), bypassing the idle ones. */
  connect(instance: RoutedInstance, owner: UpstreamOwner): UpstreamConnection {
    return new UpstreamConnection(instance, owner);
  }

  /** A pooled connection to the instance, or a new one (connecting) when none is idle. */
  take(instance: RoutedInstance, owner: UpstreamOwner): UpstreamConnection {
    return this.takeIdle(instance, owner) ?? this.connect(instance, owner);
  }

  /** A pooled, connected connection to the instance, if one is idle. */
  takeIdle(instance: RoutedInstance, owner: UpstreamOwner): UpstreamConnection | undefined {
    const idle = this.idle.get(instance);
    while (idle !== undefined && idle.connections.length > 0) {
      const connection = idle.connections.pop()!;
      if (connection.closed || connection.socket.destroyed) continue;
      connection.owner = owner;
      connection.reused = true;
      return connection;
    }
    return undefined;
  }

  /** Gives back a connection whose last exchange ended cleanly; anything else is closed. */
  give(connection: UpstreamConnection): void {
    const { instance } = connection;
    if (connection.closed || connection.socket.destroyed || !connection.connected || instance.leaving) {
      connection.destroy();
      return;
    }
    let idle = this.idle.get(instance);
    if (idle === undefined) {
      idle = new IdleSockets(this, instance);
      this.idle.set(instance, idle);
      instance.attachments.add(idle);
    }
    if (idle.connections.length >= this.options.maxIdlePerInstance) {
      connection.destroy();
      return;
    }
    // an owner may have paused it while its client caught up: in the pool it reads again (an idle
    // connection that says anything is dropped, and the next borrower's answer must be read)
    if (connection.socket.isPaused()) connection.socket.resume();
    connection.idleOwner ??= new IdleOwner(idle, connection);
    connection.owner = connection.idleOwner;
    connection.idleSince = this.sweeps;
    idle.connections.push(connection);
  }

  /** Once a second: closes connections idle for longer than the idle timeout. */
  sweep(): void {
    this.sweeps++;
    const limit = Math.ceil(this.options.idleTimeoutMs / 1_000);
    for (const idle of this.idle.values()) {
      // oldest first: connections are pushed as they go idle, so the expired ones lead; cut
      // them off in one splice (one at a time is quadratic in a pool of hundreds)
      const connections = idle.connections;
      let expired = 0;
      while (expired < connections.length && this.sweeps - connections[expired]!.idleSince >= limit) expired++;
      for (const connection of connections.splice(0, expired)) connection.destroy();
    }
  }

  /** Called by an instance's idle set once it holds nothing. */
  forget(idle: IdleSockets): void {
    if (idle.connections.length > 0) return;
    idle.instance.attachments.delete(idle);
    if (this.idle.get(idle.instance) === idle) this.idle.delete(idle.instance);
  }

  idleCount(instance: RoutedInstance): number {
    return this.idle.get(instance)?.connections.length ?? 0;
  }

  close(): void {
    for (const idle of [...this.idle.values()]) idle.cut();
  }
}
