// The edge's own JavaScript without sockets, for bench:edge-engine: a real ClientConnection,
// Routing and HttpFraming fed the request and answer bench:edge's wrk and backend exchange, through
// stand-in sockets that only count bytes. engine-driver.test.ts checks that every request and
// answer goes through, so the benchmark cannot quietly measure a path that does nothing.
import type net from 'node:net';
import { seededRandom } from '../../src/core/random.js';
import { ClientConnection } from '../../src/edge/connection-proxy.js';
import { releaseHeldWrites } from '../../src/edge/direct-writes.js';
import type { ProxyContext } from '../../src/edge/proxy.js';
import { parseRouteTable, type RoutingMode } from '../../src/edge/route-table.js';
import { Routing } from '../../src/edge/routing.js';
import type { SocketReads } from '../../src/edge/socket-reads.js';
import type { UpstreamConnection, UpstreamOwner, UpstreamPool } from '../../src/edge/upstream-pool.js';

export const ANSWER = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 28\r\nDate: Thu, 26 Nov 2026 06:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello from a berth instance\n',
);

export const request = (close: boolean) => Buffer.from(`GET / HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: wrk\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);

export interface EngineDriver {
  /** one request and its answer; with `close`, on a connection of its own that then ends */
  once(): void;
  /** bytes written so far to the instance and to the client */
  readonly toInstance: number;
  readonly toClient: number;
  /** connections ended (close: one per request) */
  readonly closed: number;
}

export function engineDriver(mode: RoutingMode, close: boolean): EngineDriver {
  const routing = new Routing({ random: seededRandom('bench'), activate: () => {} });
  const parsed = parseRouteTable({ version: 1, routes: [{ host: 'bench.test', service: 'bench', mode, instances: [{ id: 'bench-1', address: '127.0.0.1', port: 1, ready: true }] }] });
  if (!parsed.ok) throw new Error(parsed.message);
  routing.apply(parsed.table);
  const counts = { toInstance: 0, toClient: 0, closed: 0 };
  // stand-ins: only what ClientConnection touches on a socket and on the pool (the casts say so)
  const upstream = {
    socket: { pause: () => {}, resume: () => {}, destroy: () => {} },
    writes: { write: (bytes: Buffer) => ((counts.toInstance += bytes.length), true), queued: false },
    connected: true,
    reused: true,
    closed: false,
    owner: undefined as UpstreamOwner | undefined,
    destroy: () => {},
  };
  const take = (_instance: unknown, owner: UpstreamOwner) => {
    upstream.owner = owner;
    return upstream as unknown as UpstreamConnection;
  };
  const pool = { takeIdle: take, take, connect: take, give: () => {} } as unknown as UpstreamPool;
  const context: ProxyContext = { routing, pool, timeouts: { idleMs: 60_000, requestMs: 60_000 }, closed: () => void counts.closed++, port: '8080' };
  const client = () =>
    ({
      remoteAddress: '127.0.0.1',
      on: () => {},
      write: (bytes: Buffer) => ((counts.toClient += bytes.length), true),
      writableLength: 0,
      writable: true,
      connecting: false,
      pause: () => {},
      resume: () => {},
      destroy: () => {},
      destroySoon: () => {},
    }) as unknown as net.Socket;
  const reads = () => ({ reader: undefined, release: () => {} }) as unknown as SocketReads;
  const bytes = request(close);
  let connection = new ClientConnection(client(), context, reads());
  return {
    once() {
      if (close) connection = new ClientConnection(client(), context, reads());
      connection.onChunk(bytes);
      upstream.owner!.onUpstreamData(ANSWER);
      // the turn's end: the edge holds its writes until then (direct-writes.ts)
      releaseHeldWrites();
      if (close) connection.onClientClose();
    },
    get toInstance() {
      return counts.toInstance;
    },
    get toClient() {
      return counts.toClient;
    },
    get closed() {
      return counts.closed;
    },
  };
}
