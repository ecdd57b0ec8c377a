// `berth up [-f berth.yaml]`: the whole platform on one box, in one process — the control plane
// on embedded PGlite, a local agent (enrolled once, its own data directory) and the edge — then
// deploys the file and says where everything is. Ctrl-C stops it all, instances included; the
// next `berth up` on the same data directory brings back the same services and releases.
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { Agent } from '../agent/agent.js';
import { ProcessDriver } from '../agent/drivers/process/process-driver.js';
import { startControlPlane, type ControlPlane } from '../api/control-plane.js';
import { parseListenAddress, type ListenAddress } from '../api/listen-address.js';
import { ApiListenError } from '../api/serve-api.js';
import { BerthClient } from '../client/berth-client.js';
import { ValidationError } from '../core/errors.js';
import { HttpControlPlane } from '../edge/control-plane-link.js';
import { EdgeListenError, startEdge, type RunningEdge } from '../edge/edge.js';
import { PollRouteSource } from '../edge/poll-route-source.js';
import { occupiesHost } from '../reconcile/observed-state.js';
import { exampleHost } from '../spec/route.js';
import { routeHosts } from './status.js';
import { openEventStore } from '../store/open-store.js';
import { deployFailed, deployFile, formatRolloutSummary, type DeployedService } from './deploy.js';
import { addToList, trustedProxies } from './edge.js';
import { BERTH_UP, listenFailure } from './listen-failure.js';
import type { CommandModule } from './main.js';
import { untilSignal } from './until-signal.js';

interface UpOptions {
  file?: string;
  data: string;
  listen: string;
  edgeListen: string;
  edgeMetricsListen?: string;
  edgeTrustProxy?: string;
  edgeProxyProtocol?: boolean;
  database?: string;
  logLevel: string;
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * The in-process edge keeps its last route table here, under the data directory: not in `edge`,
 * which is `berth edge`'s default (`.berth/edge`) when started in the same directory, so an edge
 * of another control plane there does not overwrite this table, nor this edge its.
 */
const UP_EDGE_DIR = 'up-edge';

/** A URL to reach a listener on this machine: every address (0.0.0.0, ::) is reached on 127.0.0.1. */
function localUrl(listen: ListenAddress, port: number): string {
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

interface EdgeUrls {
  readonly url: string;
  readonly port: number;
  /** Prometheus text, with --edge-metrics-listen */
  readonly metricsUrl: string | undefined;
  /** with --edge-proxy-protocol: the trusted proxies whose connections must open with a PROXY header */
  readonly proxyProtocolFrom: readonly string[] | undefined;
}

/** Every instance the local agent runs is stopped with `up`: one box owns its processes. */
async function stopInstances(driver: ProcessDriver): Promise<number> {
  const running = driver.list().filter(occupiesHost);
  await Promise.allSettled(running.map((s) => driver.stop(s.id)));
  return running.length;
}

async function fileToDeploy(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) return file;
  // Without -f, a berth.yaml in the current directory is deployed when there is one.
  return access('berth.yaml').then(
    () => 'berth.yaml',
    () => undefined,
  );
}

/** How a deployed service is reached through the edge: its HTTP host, or its TCP route's port. */
type ServiceRoute = { readonly host: string } | { readonly tcpPort: number };

/** `taken`: every HTTP host routed now, by any service (see exampleHost). */
function printWhere(cp: ControlPlane, edge: EdgeUrls, results: readonly DeployedService[], routes: ReadonlyMap<string, ServiceRoute>, taken: ReadonlySet<string>): void {
  const lines = ['', 'berth is up', `  edge:        ${edge.url}`];
  // a local curl is then one of those proxies: without a header its connection is closed
  if (edge.proxyProtocolFrom !== undefined) lines.push(`    connections from ${edge.proxyProtocolFrom.join(',')} open with a PROXY protocol header (curl --haproxy-protocol)`);
  const edgeHost = new URL(edge.url).host.replace(/:\d+$/, '');
  for (const r of results) {
    const route = routes.get(r.service);
    if (route === undefined) continue;
    if ('host' in route) {
      const host = exampleHost(route.host, taken);
      lines.push(`    ${r.service}: curl -H 'Host: ${host}' ${edge.url}/   (or http://${host}:${edge.port}/ where *.localhost resolves)`);
    }
    // TCP routes listen on the edge's address, on a port of their own
    else lines.push(`    ${r.service}: tcp ${edgeHost}:${route.tcpPort}`);
  }
  if (edge.metricsUrl !== undefined) lines.push(`  metrics:     ${edge.metricsUrl}   (the edge's, for Prometheus)`);
  lines.push(
    `  API:         ${cp.url}`,
    `  dashboard:   not built yet; berth status and the API (${cp.url}/v1/openapi.json) show the same`,
    `  admin token: ${cp.adminTokenPath}${cp.adminTokenCreated ? ' (created now)' : ''} — client commands in this directory find it (or pass --data)`,
    'Ctrl-C stops berth and its instances.',
    '',
  );
  say(lines.join('\n'));
}

async function up(options: UpOptions): Promise<void> {
  const listen = parseListenAddress(options.listen);
  const edgeListen = parseListenAddress(options.edgeListen, '--edge-listen');
  const edgeMetricsListen = options.edgeMetricsListen === undefined ? undefined : parseListenAddress(options.edgeMetricsListen, '--edge-metrics-listen');
  const trusted = trustedProxies('--edge-trust-proxy', options.edgeTrustProxy);
  if (options.edgeProxyProtocol === true && trusted === undefined) throw new ValidationError('--edge-proxy-protocol needs --edge-trust-proxy naming the load balancers that send the header (e.g. --edge-trust-proxy 10.0.0.0/8): from anyone else it could name any client');
  const file = await fileToDeploy(options.file);
  const data = resolve(options.data);
  const log = pino({ name: 'berth', level: options.logLevel });
  await mkdir(data, { recursive: true, mode: 0o700 });

  const store = await openEventStore(options.database === undefined ? { data: join(data, 'db') } : { database: options.database });
  const cp = await startControlPlane({ store, dataDir: data, listen, log }).catch(async (error: unknown) => {
    await store.close();
    // a port in use and the like: one line naming the flag, as `berth server` says it
    throw error instanceof ApiListenError ? listenFailure('--listen', options.listen, error, BERTH_UP) : error;
  });
  const stops: (() => Promise<unknown>)[] = [() => cp.close()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => say(`berth up: while stopping: ${(error as Error).message}`));
  };
  try {
    // The local agent: enrolls on the first start with a join token minted here, then reuses its credential.
    const agentDir = join(data, 'agent');
    await mkdir(agentDir, { recursive: true, mode: 0o700 });
    const join_ = await cp.tokens.issue({ scope: 'join', name: 'berth up local agent', expiresAt: new Date(Date.now() + 10 * 60_000) });
    const driver = await ProcessDriver.open({ dataDir: agentDir });
    stops.push(async () => {
      const stopped = await stopInstances(driver);
      await driver.close();
      if (stopped > 0) say(`berth up: stopped ${stopped} instance${stopped === 1 ? '' : 's'}`);
    });
    const agent = await Agent.start({ controlPlane: cp.url, joinToken: join_.token, dataDir: agentDir, driver, log: log.child({ role: 'agent' }), name: hostname(), address: '127.0.0.1' });
    stops.push(() => agent.close());
    await cp.tokens.revoke(join_.id);

    // The edge, in this process, with a token of its own scope, polling the API like any edge.
    const edgeToken = await cp.tokens.issue({ scope: 'edge', name: 'berth up local edge' });
    stops.push(() => cp.tokens.revoke(edgeToken.id));
    const link = new HttpControlPlane(cp.url, edgeToken.token);
    // Plain lines, as `berth edge` writes them: they are few and meant for the person at the terminal.
    const edgeLog = (line: string): void => say(`berth edge: ${line}`);
    const edge: RunningEdge = await startEdge({
      listen: edgeListen,
      ...(edgeMetricsListen === undefined ? {} : { metricsListen: edgeMetricsListen }),
      source: new PollRouteSource(link, { dataDir: join(data, UP_EDGE_DIR), log: edgeLog }),
      link,
      edgeId: `up@${hostname()}`,
      ...(trusted === undefined ? {} : { trustedProxies: trusted.entries }),
      ...(options.edgeProxyProtocol === true ? { proxyProtocol: true } : {}),
      log: edgeLog,
    }).catch((error: unknown) => {
      // a port in use and the like: one line naming the flag, as `berth edge` says it
      if (!(error instanceof EdgeListenError)) throw error;
      throw error.listener === 'listen'
        ? listenFailure('--edge-listen', options.edgeListen, error, BERTH_UP)
        : listenFailure('--edge-metrics-listen', options.edgeMetricsListen ?? '', error, BERTH_UP);
    });
    stops.push(() => edge.close());
    const edgeUrl = localUrl(edgeListen, edge.port);
    const metricsUrl = edgeMetricsListen === undefined || edge.metricsPort === undefined ? undefined : `${localUrl(edgeMetricsListen, edge.metricsPort)}/metrics`;
    // `berth status --json` gives each HTTP service's URL through this edge; gone again when up stops.
    await writeFile(join(data, 'edge-url'), `${edgeUrl}\n`, { mode: 0o644 });
    stops.push(() => rm(join(data, 'edge-url'), { force: true }));

    let results: DeployedService[] = [];
    const routes = new Map<string, ServiceRoute>();
    // services deployed before (the data directory keeps them) route too
    let taken: ReadonlySet<string> = new Set();
    const signal = new AbortController();
    const interrupted = untilSignal().then(() => signal.abort());
    if (file !== undefined) {
      say(`berth up: deploying ${file}`);
      const client = new BerthClient({ url: cp.url, token: (await readFile(cp.adminTokenPath, 'utf8')).trim() });
      try {
        results = await deployFile(client, { file, skipUnchanged: true, say: (line) => say(`  ${line}`), signal: signal.signal });
        // one status read: each deployed service's route, and every host routed (by earlier deploys too)
        const { services } = await client.status();
        const deployed = new Set(results.map((r) => r.service));
        for (const s of services) {
          if (!deployed.has(s.name) || s.route === null) continue;
          routes.set(s.name, 'http' in s.route ? { host: s.route.http.host } : { tcpPort: s.route.tcp.port });
        }
        taken = routeHosts(services);
        say(formatRolloutSummary(results).map((l) => `  ${l}`).join('\n'));
        if (deployFailed(results)) say('berth up: a rollout did not go live; berth explain <service> says why (berth keeps running)');
      } catch (error) {
        if (!signal.signal.aborted) say(`berth up: deploy failed: ${(error as Error).message}\nberth keeps running; fix ${file} and run berth deploy -f ${file}`);
      }
    }
    if (!signal.signal.aborted) printWhere(cp, { url: edgeUrl, port: edge.port, metricsUrl, proxyProtocolFrom: options.edgeProxyProtocol === true ? trusted?.entries : undefined }, results, routes, taken);
    await interrupted;
    say('berth up: stopping');
  } finally {
    await stopAll();
  }
  say('berth up: stopped');
}

export const upCommand: CommandModule = (program: Command) => {
  program
    .command('up')
    .description('run berth on this machine: control plane, local agent and edge in one process; deploys the file')
    .option('-f, --file <path>', 'berth.yaml to deploy (default: ./berth.yaml when there is one)')
    .option('--data <dir>', 'data directory: database, admin token, agent, the edge\'s last route table (up-edge)', '.berth')
    .option('--listen <address>', 'host:port of the API', '127.0.0.1:7070')
    .option('--edge-listen <address>', 'host:port the edge accepts HTTP on', '127.0.0.1:8080')
    .option('--edge-metrics-listen <address>', 'serve the edge\'s Prometheus metrics at /metrics on this host:port, e.g. 127.0.0.1:9090 (berth edge --metrics-listen; default: not served)')
    .option('--edge-trust-proxy <list>', 'the edge keeps X-Forwarded-Proto and -Host from these proxies in front, e.g. 127.0.0.1 for a local TLS proxy (berth edge --trust-proxy)', addToList)
    .option('--edge-proxy-protocol', 'the --edge-trust-proxy peers are L4 load balancers that open each connection with a PROXY protocol header (berth edge --proxy-protocol)')
    .option('--database <url>', 'Postgres server instead of the embedded database')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'warn')
    .action((options: UpOptions) => up(options));
};
