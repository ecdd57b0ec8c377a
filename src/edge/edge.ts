// Wires one edge: route source -> routing -> HTTP and TCP proxies, with the activator and the
// metrics (pushed to the control plane, served to Prometheus). `berth edge` runs it alone;
// `berth up` runs it in-process, polling its own API over HTTP with an edge-scoped token.
import http from 'node:http';
import type net from 'node:net';
import { hostname } from 'node:os';
import { seededRandom } from '../core/random.js';
import { Activator } from './activator.js';
import type { ControlPlaneLink } from './control-plane-link.js';
import { EdgeMetrics } from './edge-metrics.js';
import type { EdgeMetricsReport } from './metrics-report.js';
import type { OutlierPolicy } from './outlier-detection.js';
import { HttpProxy, type ProxyTimeouts } from './proxy.js';
import type { RouteSource } from './route-source.js';
import type { RouteTable } from './route-table.js';
import { Routing } from './routing.js';
import { TcpProxy } from './tcp-proxy.js';
import { TrustedProxies } from './trusted-proxies.js';
import { DEFAULT_POOL_OPTIONS, UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface EdgeOptions {
  readonly listen: ListenAddress;
  /** Prometheus `/metrics`; none: not served */
  readonly metricsListen?: ListenAddress;
  /** the address TCP routes listen on (their ports come from the route table) */
  readonly tcpHost?: string;
  readonly source: RouteSource;
  /** where metrics go and activations are asked for; none: neither (tests, a lone edge) */
  readonly link?: ControlPlaneLink;
  /** names this edge in its reports; default hostname:port */
  readonly edgeId?: string;
  readonly timeouts?: Partial<ProxyTimeouts>;
  readonly pool?: Partial<UpstreamPoolOptions>;
  readonly outlier?: OutlierPolicy;
  readonly metricsIntervalMs?: number;
  /**
   * Addresses and CIDR ranges of the proxies in front (a TLS terminator, a load balancer): a
   * connection from one keeps its X-Forwarded-Proto and -Host. None: the edge sets both itself.
   */
  readonly trustedProxies?: readonly string[];
  /**
   * The trusted proxies are L4 load balancers that open each connection with a PROXY protocol
   * header (v1 or v2) naming the client: the edge reads it and takes that client as the
   * connection's. Needs `trustedProxies`; everyone else's connections are read as they are.
   */
  readonly proxyProtocol?: boolean;
  /** seeds the balancers' random choices, so a test run can be replayed */
  readonly seed?: number | string;
  readonly log?: (line: string) => void;
}

/** Why a PROXY protocol option alone is refused: whoever could send the header could name any client. */
export const PROXY_PROTOCOL_NEEDS_TRUST = 'the PROXY protocol is read only from trusted proxies: name the load balancers that send it as trusted proxies (e.g. 10.0.0.0/8)';

export const DEFAULT_TIMEOUTS: ProxyTimeouts = { requestMs: 60_000, idleMs: 60_000 };

export interface RunningEdge {
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly routing: Routing;
  readonly metrics: EdgeMetrics;
  /** Resolves once a table with at least this version is in force. */
  waitForVersion(version: number): Promise<void>;
  /** Stops listening, stops the source and the timers, closes every connection. */
  close(): Promise<void>;
}

/**
 * One of the edge's listeners could not bind: a port in use or not permitted, an address this
 * machine does not have, a host that does not resolve. `listener` names the option, so the
 * command that started the edge can name its own flag; `cause.code` is Node's errno code.
 */
export class EdgeListenError extends Error {
  constructor(
    readonly listener: 'listen' | 'metricsListen',
    readonly address: ListenAddress,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(`${listener} ${address.host}:${address.port}: ${cause.message}`);
    this.name = 'EdgeListenError';
  }
}

/** "host:port", ":port" (every interface) or "port". */
export function parseListen(text: string, defaultHost = '0.0.0.0'): ListenAddress {
  const match = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text.trim());
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) throw new Error(`"${text}" is not a listen address; write :8080 or 127.0.0.1:8080`);
  return { host: match[1] === undefined || match[1] === '' ? defaultHost : match[1], port };
}

export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const log = options.log ?? ((line: string) => process.stderr.write(`berth edge: ${line}\n`));
  // first: a bad entry throws before anything is made
  const trusted = options.trustedProxies === undefined || options.trustedProxies.length === 0 ? undefined : new TrustedProxies(options.trustedProxies);
  if (options.proxyProtocol === true && trusted === undefined) throw new Error(PROXY_PROTOCOL_NEEDS_TRUST);
  const timeouts: ProxyTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const edgeId = options.edgeId ?? `${hostname()}:${options.listen.port}`;
  const activator = new Activator(options.link, edgeId, log);
  const routing = new Routing({
    random: seededRandom(options.seed ?? Date.now()),
    activate: activator.activate,
    ...(options.outlier === undefined ? {} : { outlier: options.outlier }),
  });
  const pool = new UpstreamPool({ ...DEFAULT_POOL_OPTIONS, ...options.pool });
  const proxy = new HttpProxy(routing, pool, timeouts, trusted, options.proxyProtocol === true);
  const tcp = new TcpProxy(routing, pool, options.tcpHost ?? options.listen.host, timeouts.connectMs, trusted, options.proxyProtocol === true);
  const metrics = new EdgeMetrics(routing, edgeId);

  const versionWaiters = new Set<{ version: number; resolve: () => void }>();
  let tcpSync = Promise.resolve();
  routing.onApplied = (table: RouteTable) => {
    tcpSync = tcpSync.then(() => tcp.sync());
    void tcpSync.then(() => {
      for (const waiter of versionWaiters) {
        if (table.version < waiter.version) continue;
        versionWaiters.delete(waiter);
        waiter.resolve();
      }
    });
  };

  // Both listeners bind before the route source starts: a port in use or a host that does not
  // resolve ends start-up with nothing polling, no TCP route port open and no timer running.
  let port: number;
  let metricsServer: http.Server | undefined;
  try {
    port = await proxy.listen(options.listen.port, options.listen.host).catch((error: NodeJS.ErrnoException) => {
      throw new EdgeListenError('listen', options.listen, error);
    });
    if (options.metricsListen !== undefined) metricsServer = await serveMetrics(metrics, options.metricsListen);
  } catch (error) {
    pool.close();
    routing.close();
    await proxy.close();
    throw error;
  }
  const metricsPort = metricsServer === undefined ? undefined : (metricsServer.address() as net.AddressInfo).port;
  options.source.start((table) => routing.apply(table));

  // one timer for the whole edge: grace periods, ejection expiry, re-asking for activations
  const ticker = setInterval(() => {
    routing.tick();
    pool.sweep();
  }, 1_000);
  ticker.unref();
  let pushing = false;
  let pushFailures = 0;
  const pusher = setInterval(() => {
    if (options.link === undefined) return;
    // one report at a time: a slow control plane gets fresher numbers, not a backlog
    if (pushing) return;
    pushing = true;
    const report: EdgeMetricsReport = metrics.report();
    options.link
      .pushMetrics(report)
      .then(() => {
        if (pushFailures > 0) log(`metrics reach the control plane again after ${pushFailures} failures`);
        pushFailures = 0;
      })
      .catch((error: unknown) => {
        pushFailures++;
        if (pushFailures === 1 || pushFailures % 60 === 0) log(`could not push metrics (${(error as Error).message}); routing goes on`);
      })
      .finally(() => {
        pushing = false;
      });
  }, options.metricsIntervalMs ?? 1_000);
  pusher.unref();

  return {
    port,
    metricsPort,
    routing,
    metrics,
    waitForVersion: (version) =>
      routing.version >= version
        ? tcpSync
        : new Promise<void>((resolve) => {
            versionWaiters.add({ version, resolve });
          }),
    close: async () => {
      clearInterval(ticker);
      clearInterval(pusher);
      await options.source.stop();
      tcp.close();
      routing.close();
      pool.close();
      await Promise.all([proxy.close(), metricsServer === undefined ? undefined : new Promise<void>((resolve) => metricsServer!.close(() => resolve()))]);
      await lastReport();
    },
  };

  /**
   * A report that lists nothing, once nothing is routed any more: the control plane waits for an
   * edge's last word on a draining instance while no other edge has reported since
   * (drain-at-edges.ts), so an edge that stops says it holds nothing. Best effort, within 2 s: an
   * edge that cannot say it is waited for until the grace end, as one that crashed.
   */
  async function lastReport(): Promise<void> {
    if (options.link === undefined) return;
    const sent = options.link.pushMetrics({ ...metrics.report(), services: [] }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }
}

/** Prometheus text at /metrics, on a listener of its own so no routed host can shadow it. */
async function serveMetrics(metrics: EdgeMetrics, address: ListenAddress): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('berth edge: metrics are at /metrics\n');
      return;
    }
    metrics.prometheus().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`berth edge: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new EdgeListenError('metricsListen', address, error)));
    server.listen(address.port, address.host, () => resolve());
  });
  return server;
}
