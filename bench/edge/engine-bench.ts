// npm run bench:edge-engine [-- --requests 1000000]
// The edge's own JavaScript per request, without sockets: a real ClientConnection, Routing and
// HttpFraming fed the request and answer bench:edge's wrk and backend exchange, through sockets
// that only count bytes. Repeatable within a few percent on a busy machine, where bench:edge is
// not, so it shows what a change to the engine costs or saves. A tight loop keeps code and data in
// cache: in a real proxy, where the kernel's network stack runs between requests, the same work
// costs about four times as much (docs/edge.md). Prints one JSON object; each figure is the best
// of three rounds.
import { parseArgs } from 'node:util';
import { HttpFraming, type FramingListener } from '../../src/edge/http-framing.js';
import type { RoutingMode } from '../../src/edge/route-table.js';
import { ANSWER, engineDriver, request } from './engine-driver.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000000' } } });
const requests = Number(values.requests);

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
  const driver = engineDriver(mode, close);
  const ns = measure(() => driver.once());
  if (driver.toInstance === 0 || driver.toClient === 0) throw new Error(`nothing went through in ${mode} mode${close ? ' with Connection: close' : ''}`);
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
