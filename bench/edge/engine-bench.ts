// npm run bench:edge-engine [-- --requests 1000000]
// The edge's own JavaScript per request, without sockets: a real ClientConnection, Routing and
// HttpFraming fed the request and answer bench:edge's wrk and backend exchange, through sockets
// that only count bytes. Repeatable within a few percent on a busy machine, where bench:edge is
// not, so it shows what a change to the engine costs or saves. A tight loop keeps code and data in
// cache: in a real proxy, where the kernel's network stack runs between requests, the same work
// costs about four times as much (docs/edge.md). Prints one JSON object; each figure is the best
// of three rounds.
import type net from 'node:net';
import { parseArgs } from 'node:util';
import { seededRandom } from '../../src/core/random.js';
import { ClientConnection } from '../../src/edge/connection-proxy.js';
import { HttpFraming, type FramingListener } from '../../src/edge/http-framing.js';
import type { ProxyContext } from '../../src/edge/proxy.js';
import { parseRouteTable, type RoutingMode } from '../../src/edge/route-table.js';
import { Routing } from '../../src/edge/routing.js';
import type { SocketReads } from '../../src/edge/socket-reads.js';
import type { UpstreamConnection, UpstreamOwner, UpstreamPool } from '../../src/edge/upstream-pool.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000000' } } });
const requests = Number(values.requests);

const ANSWER = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 28\r\nDate: Thu, 26 Nov 2026 06:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello from a berth instance\n',
);
const request = (close: boolean) => Buffer.from(`GET / HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: wrk\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);

/** Runs `once` `requests` times a round, three rounds after a warm-up; the best round, in ns per call. */
function measure(once: () => void): number {
  for (let i = 0; i < Math.min(requests, 200_000); i++) once();
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let i = 0; i < requests; i++) once();
    best = Math.min(best, ((performance.now() - started) * 1e6) / requests);
  }
  return Math.round(best);
}

function engine(mode: RoutingMode, close: boolean): number {
  const routing = new Routing({ random: seededRandom('bench'), activate: () => {} });
  const parsed = parseRouteTable({ version: 1, routes: [{ host: 'bench.test', service: 'bench', mode, instances: [{ id: 'bench-1', address: '127.0.0.1', port: 1, ready: true }] }] });
  if (!parsed.ok) throw new Error(parsed.message);
  routing.apply(parsed.table);
  let toInstance = 0;
  let toClient = 0;
  // stand-ins: only what ClientConnection touches on a socket and on the pool (the casts say so)
  const upstream = {
    socket: { pause: () => {}, resume: () => {}, destroy: () => {} },
    writes: { write: (bytes: Buffer) => ((toInstance += bytes.length), true), queued: false },
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
  const context: ProxyContext = { routing, pool, timeouts: { idleMs: 60_000, requestMs: 60_000 }, closed: () => {}, port: '8080' };
  const client = () =>
    ({ remoteAddress: '127.0.0.1', on: () => {}, write: (bytes: Buffer) => ((toClient += bytes.length), true), writableLength: 0, writable: true, connecting: false, pause: () => {}, resume: () => {}, destroy: () => {}, destroySoon: () => {} }) as unknown as net.Socket;
  const reads = () => ({ reader: undefined, release: () => {} }) as unknown as SocketReads;
  const bytes = request(close);
  let connection = new ClientConnection(client(), context, reads());
  const ns = measure(() => {
    if (close) connection = new ClientConnection(client(), context, reads());
    connection.onChunk(bytes);
    upstream.owner!.onUpstreamData(ANSWER);
    if (close) connection.onClientClose();
  });
  if (toInstance === 0 || toClient === 0) throw new Error(`nothing went through in ${mode} mode`);
  return ns;
}

function parse(kind: 'request' | 'response'): number {
  let heads = 0;
  const listener: FramingListener = { onHead: () => void heads++, onMessageEnd: () => {}, onError: (message) => { throw new Error(message); } };
  const framing = new HttpFraming(kind, listener);
  const bytes = kind === 'request' ? request(false) : ANSWER;
  const ns = measure(() => {
    if (kind === 'response') framing.expectResponseTo('GET');
    framing.push(bytes);
  });
  if (heads === 0) throw new Error(`no ${kind} head parsed`);
  return ns;
}

process.stdout.write(
  `${JSON.stringify({
    bench: 'edge-engine',
    node: process.version,
    requests,
    ns_per_request: {
      per_connection: engine('per-connection', false),
      per_request: engine('per-request', false),
      per_connection_close: engine('per-connection', true),
      per_request_close: engine('per-request', true),
    },
    parse_ns: { request: parse('request'), response: parse('response') },
  })}\n`,
);
