// `berth edge`: the reverse proxy for one edge host, fed by the control plane's route table.
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { HttpControlPlane } from '../edge/control-plane-link.js';
import { parseListen, startEdge } from '../edge/edge.js';
import { PollRouteSource } from '../edge/poll-route-source.js';
import type { CommandModule } from './main.js';

interface Options {
  controlPlane: string;
  token?: string;
  listen: string;
  data?: string;
  metricsListen?: string;
  id?: string;
}

function listenAddress(flag: string, text: string) {
  try {
    return parseListen(text);
  } catch (error) {
    throw new ValidationError(`${flag} ${(error as Error).message}`);
  }
}

async function edge(options: Options): Promise<void> {
  const token = options.token ?? process.env.BERTH_TOKEN;
  if (token === undefined || token === '') throw new ValidationError('--token is missing; pass an edge-scoped token with --token or set BERTH_TOKEN');
  try {
    new URL(options.controlPlane);
  } catch {
    throw new ValidationError(`--control-plane "${options.controlPlane}" is not a URL; write e.g. http://10.0.0.2:7070`);
  }
  const listen = listenAddress('--listen', options.listen);
  const metricsListen = options.metricsListen === undefined ? undefined : listenAddress('--metrics-listen', options.metricsListen);
  const log = (line: string) => process.stderr.write(`berth edge: ${line}\n`);
  const link = new HttpControlPlane(options.controlPlane, token);
  const source = new PollRouteSource(link, { ...(options.data === undefined ? {} : { dataDir: options.data }), log });
  const running = await startEdge({
    listen,
    ...(metricsListen === undefined ? {} : { metricsListen }),
    source,
    link,
    ...(options.id === undefined ? {} : { edgeId: options.id }),
    log,
  });
  log(`listening on ${listen.host}:${running.port}${running.metricsPort === undefined ? '' : `, metrics on ${metricsListen!.host}:${running.metricsPort}/metrics`}; routes from ${options.controlPlane}`);
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
    .requiredOption('--control-plane <url>', 'the control plane API, e.g. http://10.0.0.2:7070')
    .option('--token <token>', 'edge-scoped API token (default: $BERTH_TOKEN)')
    .option('--listen <address>', 'where to accept HTTP, as :8080 or 127.0.0.1:8080', ':8080')
    .option('--data <dir>', 'keep the last route table here, to route through a control plane outage and restart')
    .option('--metrics-listen <address>', 'serve Prometheus metrics at /metrics on this address, e.g. :9090')
    .option('--id <name>', 'name of this edge in its metrics reports (default hostname:port)')
    .action(edge);
};
