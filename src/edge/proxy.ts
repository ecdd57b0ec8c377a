// The edge's HTTP listener: a plain TCP server; every connection is a ClientConnection, which
// reads requests itself in both routing modes. Timeouts are kept by one sweep a second over all
// connections, not by a timer per socket re-armed on every read and write.
import net from 'node:net';
import { ClientConnection } from './connection-proxy.js';
import { Roster } from './roster.js';
import type { RawClient } from './raw-client.js';
import { acceptRawClients, acceptWithOwnReads, type SocketReads } from './socket-reads.js';
import type { Routing } from './routing.js';
import type { TrustedProxies } from './trusted-proxies.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface ProxyTimeouts {
  /** how long an instance may stay silent while a request waits on it */
  readonly requestMs: number;
  /** how long a client connection may stay idle between requests */
  readonly idleMs: number;
  /**
   * how long a connection to an instance may take to open (default DEFAULT_CONNECT_MS in
   * upstream-pool.ts); past it,
   * the request goes to another instance once, as after a refusal. Without it, an instance whose
   * host drops packets would hold each request until the kernel gives up (about 2 minutes).
   */
  readonly connectMs?: number;
  /** how long an upgraded connection (a WebSocket) may carry nothing either way (default DEFAULT_TUNNEL_MS in connection-proxy.ts, 1 h) */
  readonly tunnelMs?: number;
}

export interface ProxyContext {
  readonly routing: Routing;
  readonly pool: UpstreamPool;
  readonly timeouts: ProxyTimeouts;
  /** peers whose X-Forwarded-*, Forwarded and client address are believed; none: nobody's */
  readonly trustedProxies?: TrustedProxies;
  /** trusted peers open each connection with a PROXY protocol header (proxy-protocol.ts) */
  readonly proxyProtocol?: boolean;
  /** the port clients connect to, as X-Forwarded-Port gives it: set once the listener is bound (absent: no such line) */
  port?: string;
  /** a connection is gone: stop sweeping it */
  closed(connection: ClientConnection): void;
}

/** How client connections are taken, by net.Server or by acceptWithOwnReads alike. */
const ACCEPT = { allowHalfOpen: true, noDelay: true };

export class HttpProxy {
  readonly server: net.Server;
  /** open client connections, for the sweep; a roster, not a Set: one joins and leaves per `Connection: close` request (roster.ts) */
  private readonly connections = new Roster<'connectionSlot', ClientConnection>('connectionSlot');
  private readonly sweeper: NodeJS.Timeout;
  private readonly context: ProxyContext;

  constructor(routing: Routing, pool: UpstreamPool, timeouts: ProxyTimeouts, trustedProxies?: TrustedProxies, proxyProtocol = false) {
    this.context = { routing, pool, timeouts, trustedProxies, proxyProtocol, closed: (connection) => this.connections.delete(connection) };
    // half-open: a client may finish sending and still wait for its answers
    this.server = net.createServer(ACCEPT, (socket) => {
      this.connections.add(new ClientConnection(socket, this.context));
    });
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const connection of this.connections.snapshot()) connection.tick(now);
    }, 1_000);
    this.sweeper.unref();
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.removeListener('error', reject);
        const bound = (this.server.address() as net.AddressInfo).port;
        this.context.port = String(bound);
        // connections as raw handles (raw-client.ts); without the binding that needs, as
        // net.Sockets reading into their own buffers; the server's own 'connection' path stays
        // as the last fallback
        const accept = (client: net.Socket | RawClient, reads: SocketReads) => this.connections.add(new ClientConnection(client, this.context, reads));
        if (!acceptRawClients(this.server, ACCEPT.noDelay, accept)) acceptWithOwnReads(this.server, ACCEPT, accept);
        resolve(bound);
      });
    });
  }

  /** Stops accepting and closes open connections (the caller drains first when it can). */
  close(): Promise<void> {
    clearInterval(this.sweeper);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections.snapshot()) connection.destroy();
    });
  }
}
