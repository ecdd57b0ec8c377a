// `berth edge`: the reverse proxy for one edge host, fed by the control plane's route table.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { HttpControlPlane } from '../edge/control-plane-link.js';
import { EdgeListenError, parseListen, startEdge } from '../edge/edge.js';
import { PollRouteSource } from '../edge/poll-route-source.js';
import { ROUTE_TABLE_FILE } from '../edge/route-table-file.js';
import { TrustedProxies } from '../edge/trusted-proxies.js';
import { timerFlag } from './duration-flag.js';
import { listenFailure } from './listen-failure.js';
import type { CommandModule } from './main.js';

// edge.test.ts imports it from here, where it lived before berth server and berth up shared it

/**
 * Where the last route table is kept without --data, under the directory the edge starts in.
 * `berth up` keeps its own edge's in `<data>/up-edge`, so both can start in one directory.
 */
export const DEFAULT_EDGE_DATA_DIR = '.berth/edge';

interface Options {
  controlPlane: string;
  token?: string;
  listen: string;
  data: string;
  metricsListen?: string;
  id?: string;
  trustProxy?: string;
  proxyProtocol?: boolean;
  requestTimeout: string;
  idleTimeout: string;
  connectTimeout: string;
  tunnelTimeout: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
// user:password@ after an optional scheme, up to the first '/', '?' or '#'
const CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)?[^/?#@]*@/i;

/**
 * An http: or https: URL with a host. `localhost:7070` parses as a URL (scheme `localhost:`), and
 * an edge started with it would only log failed polls, so it is refused here with the fix.
 */
function controlPlaneUrl(text: string): string {
  // never echoed: the password part may be the token
  if (CREDENTIALS.test(text)) {
    const bare = text.replace(CREDENTIALS, '$1');
    throw new ValidationError(`--control-plane carries a user name or password; write ${/^https?:\/\//i.test(bare) ? bare : `http://${bare.replace(SCHEME, '')}`} and pass the token with --token or BERTH_TOKEN`);
  }
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    const hostAndPort = text.replace(SCHEME, '');
    throw new ValidationError(`--control-plane "${text}" is not an http:// or https:// URL with a host; write http://${hostAndPort === '' ? '10.0.0.2:7070' : hostAndPort}`);
  }
  return text;
}

/** `--trust-proxy 10.0.0.0/8,127.0.0.1` (berth edge) or `--edge-trust-proxy` (berth up); none: trust no one. */
export function trustedProxies(flag: string, text: string | undefined): TrustedProxies | undefined {
  if (text === undefined) return undefined;
  try {
    return TrustedProxies.parse(text);
  } catch (error) {
    throw new ValidationError(`${flag} ${(error as Error).message}`);
  }
}

/** Repeating the flag adds to the list. */
export const addToList = (value: string, previous: string | undefined): string => (previous === undefined ? value : `${previous},${value}`);

function listenAddress(flag: string, text: string) {
  try {
    return parseListen(text);
  } catch (error) {
    throw new ValidationError(`${flag} ${(error as Error).message}`);
  }
}

/**
 * Creates the data directory and proves it writable before anything listens: an edge that only
 * finds out at its first table would route through the next restart with nothing.
 */
async function prepareDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `${ROUTE_TABLE_FILE}.${process.pid}.probe`);
    await writeFile(probe, '', { flag: 'wx', mode: 0o600 });
    await rm(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a file is in the way, not a directory'
          : code === 'EROFS'
            ? 'the file system is read-only'
            : code === 'ENOSPC'
              ? 'the disk is full'
              : (error as Error).message;
    throw new ValidationError(`--data ${dir}: cannot keep the route table there (${why}); pass --data with a directory this user can write`);
  }
}

async function edge(options: Options): Promise<void> {
  const token = options.token ?? process.env.BERTH_TOKEN;
  if (token === undefined || token === '') throw new ValidationError('--token is missing; pass an edge-scoped token with --token or set BERTH_TOKEN');
  const controlPlane = controlPlaneUrl(options.controlPlane);
  const listen = listenAddress('--listen', options.listen);
  const metricsListen = options.metricsListen === undefined ? undefined : listenAddress('--metrics-listen', options.metricsListen);
  const trusted = trustedProxies('--trust-proxy', options.trustProxy);
  if (options.proxyProtocol === true && trusted === undefined) throw new ValidationError('--proxy-protocol needs --trust-proxy naming the load balancers that send the header (e.g. --trust-proxy 10.0.0.0/8): from anyone else it could name any client');
  const timeouts = {
    requestMs: timerFlag('--request-timeout', options.requestTimeout),
    idleMs: timerFlag('--idle-timeout', options.idleTimeout),
    connectMs: timerFlag('--connect-timeout', options.connectTimeout),
    tunnelMs: timerFlag('--tunnel-timeout', options.tunnelTimeout),
  };
  await prepareDataDir(options.data);
  const log = (line: string) => process.stderr.write(`berth edge: ${line}\n`);
  const link = new HttpControlPlane(controlPlane, token);
  const source = new PollRouteSource(link, { dataDir: options.data, log });
  const running = await startEdge({
    listen,
    ...(metricsListen === undefined ? {} : { metricsListen }),
    source,
    link,
    ...(options.id === undefined ? {} : { edgeId: options.id }),
    ...(trusted === undefined ? {} : { trustedProxies: trusted.entries }),
    ...(options.proxyProtocol === true ? { proxyProtocol: true } : {}),
    timeouts,
    log,
  }).catch((error: unknown) => {
    if (!(error instanceof EdgeListenError)) throw error;
    throw error.listener === 'listen' ? listenFailure('--listen', options.listen, error) : listenFailure('--metrics-listen', options.metricsListen ?? '', error);
  });
  log(
    `listening on ${listen.host}:${running.port}${running.metricsPort === undefined ? '' : `, metrics on ${metricsListen!.host}:${running.metricsPort}/metrics`}; routes from ${controlPlane}, the last table kept in ${join(resolvePath(options.data), ROUTE_TABLE_FILE)}${trusted === undefined ? '' : `; X-Forwarded-Proto and -Host kept from ${trusted.entries.join(',')}`}${options.proxyProtocol === true ? ', each of their connections opening with a PROXY protocol header' : ''}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      log('stopping');
      void running.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export const edgeCommand: CommandModule = (program: Command) => {
  program
    .command('edge')
    .description('run an edge: route HTTP and TCP traffic to ready instances, with the route table from the control plane')
    .requiredOption('--control-plane <url>', 'the control plane API, an http:// or https:// URL, e.g. http://10.0.0.2:7070')
    .option('--token <token>', 'edge-scoped API token (default: $BERTH_TOKEN)')
    .option('--listen <address>', 'where to accept HTTP, as :8080 or 127.0.0.1:8080', ':8080')
    .option(
      '--data <dir>',
      'keep the last route table here (routes.json), so a restart during a control plane outage still routes; relative to the current directory, like berth up and berth agent',
      DEFAULT_EDGE_DATA_DIR,
    )
    .option('--metrics-listen <address>', 'serve Prometheus metrics at /metrics on this address, e.g. :9090')
    .option('--id <name>', 'name of this edge in its metrics reports (default hostname:port)')
    .option(
      '--trust-proxy <list>',
      'addresses and CIDR ranges of the proxies in front (TLS, a load balancer), e.g. 10.0.0.0/8,127.0.0.1: their X-Forwarded-Proto and -Host are kept; everyone else\'s are replaced',
      addToList,
    )
    .option('--proxy-protocol', 'the --trust-proxy peers are L4 load balancers that open each connection with a PROXY protocol header (v1 or v2): the client it names is the one in X-Forwarded-For and for ip affinity')
    .option('--request-timeout <duration>', 'how long an instance may stay silent on a request before the client gets 504', '60s')
    .option('--idle-timeout <duration>', 'how long a client connection may stay idle between requests', '60s')
    .option('--connect-timeout <duration>', 'how long a connection to an instance may take to open before the request tries another instance', '5s')
    .option('--tunnel-timeout <duration>', 'how long a WebSocket (any upgraded connection) may carry nothing either way', '1h')
    .action(edge);
};
