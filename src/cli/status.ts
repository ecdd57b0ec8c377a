// `berth status [service]`: per service desired, placed, running, ready, routed, release and
// scale state. With --json each HTTP service carries its URL through the edge, read from the
// `edge-url` a local `berth up` leaves in its data directory.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ServiceStatusInfo } from '../api/protocol/status-protocol.js';
import { exampleHost, WILDCARD_LABEL } from '../spec/route.js';
import { connect, DEFAULT_CLIENT_DATA_DIR, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';
import { formatTable } from './table.js';

interface Options extends ConnectOptions {
  json?: boolean;
}

async function edgeUrl(data: string | undefined): Promise<URL | undefined> {
  const text = await readFile(join(data ?? DEFAULT_CLIENT_DATA_DIR, 'edge-url'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return new URL(text.trim());
  } catch {
    return undefined;
  }
}

/** The service's URL through the edge: its route's host name on the edge's port and scheme. `exact`: every route's exact host (see exampleHost). */
export function serviceUrl(status: ServiceStatusInfo, edge: URL | undefined, exact: ReadonlySet<string> = new Set()): string | null {
  if (edge === undefined || status.route === null || !('http' in status.route)) return null;
  const port = edge.port === '' ? '' : `:${edge.port}`;
  return `${edge.protocol}//${exampleHost(status.route.http.host, exact)}${port}${status.route.http.path}`;
}

/** The HTTP hosts the services route (the wildcards among them never equal a printed name). */
export function routeHosts(services: readonly ServiceStatusInfo[]): Set<string> {
  return new Set(services.flatMap((s) => (s.route !== null && 'http' in s.route ? [s.route.http.host] : [])));
}

export function scaleText(s: ServiceStatusInfo): string {
  const scale = s.scale.mode === 'fixed' ? `fixed ${s.scale.replicas}` : `auto ${s.scale.min}-${s.scale.max} (at ${s.scale.desired})`;
  return s.burst && Date.parse(s.burst.until) > Date.now() ? `${scale}, burst ${s.burst.replicas}` : scale;
}

export function releaseText(s: ServiceStatusInfo): string {
  const live = s.release === null ? '-' : `v${s.release}`;
  if (s.rollout === null) return live;
  if (s.rollout.failure !== undefined) return `${live} (v${s.rollout.release} failed)`;
  return `${live} -> v${s.rollout.release}${s.rollout.healthy === undefined ? '' : ` ${s.rollout.healthy}/${s.rollout.desired}`}`;
}

export function formatStatus(services: readonly ServiceStatusInfo[], reconciling: boolean): string[] {
  if (services.length === 0) return ['no services yet; berth deploy -f berth.yaml creates them'];
  const rows = services.map((s) => [
    s.name,
    String(s.desired),
    String(s.placed),
    String(s.running),
    String(s.ready),
    s.route === null ? '-' : String(s.routed),
    releaseText(s),
    scaleText(s),
    s.messages[0] ?? (s.ready < s.desired ? `run berth explain ${s.name}` : ''),
  ]);
  const lines = formatTable(['SERVICE', 'DESIRED', 'PLACED', 'RUNNING', 'READY', 'ROUTED', 'RELEASE', 'SCALE', 'NOTE'], rows);
  if (!reconciling) lines.push('', 'note: no control loops run on this control plane, so nothing converges here');
  return lines;
}

export const statusCommand: CommandModule = (program: Command) => {
  withConnectOptions(
    program
      .command('status')
      .description('desired, placed, running, ready and routed instances, release and scale state of each service')
      .argument('[service]', 'one service (default: all)')
      .option('--json', 'print JSON, with each HTTP service URL through the edge'),
  ).action(async (service: string | undefined, options: Options) => {
    const client = await connect(options);
    const status = service === undefined ? await client.status() : { services: [await client.serviceStatus(service)], reconciling: true };
    if (options.json) {
      const edge = await edgeUrl(options.data);
      // one service's wildcard route is printed with a name no other service's route takes: that needs them all
      const wildcard = status.services.some((s) => s.route !== null && 'http' in s.route && s.route.http.host.startsWith(WILDCARD_LABEL));
      const exact = routeHosts(service !== undefined && wildcard ? (await client.status()).services : status.services);
      const services = status.services.map((s) => ({ ...s, url: serviceUrl(s, edge, exact) }));
      process.stdout.write(`${JSON.stringify(service === undefined ? { ...status, services } : services[0], null, 2)}\n`);
      return;
    }
    process.stdout.write(`${formatStatus(status.services, status.reconciling).join('\n')}\n`);
  });
};
