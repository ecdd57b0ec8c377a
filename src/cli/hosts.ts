// `berth hosts` and the host lifecycle: list, cordon, uncordon, drain (following its progress
// until the host is empty unless --detach), decommission, and join tokens for new hosts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { HostSummary } from '../api/protocol/host-protocol.js';
import type { BerthClient } from '../client/berth-client.js';
import { ValidationError } from '../core/errors.js';
import { formatCpus, formatDuration, humanSize } from '../core/quantity.js';
import { durationFlag } from './duration-flag.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';
import { formatAge, formatTable } from './table.js';

interface Options extends ConnectOptions {
  json?: boolean;
}

interface DrainOptions extends Options {
  deadline: string;
  maxParallel: string;
  detach?: boolean;
}

export function formatHosts(hosts: readonly HostSummary[], now = Date.now()): string[] {
  if (hosts.length === 0) return ['no hosts yet; berth hosts join-token makes a token for berth agent --join <url> --token <token>'];
  const rows = hosts.map((h) => {
    const [placedCpu, cpu] = formatCpus(h.placed.cpu, h.allocatable.cpu);
    const labels = Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(',');
    return [
      h.name,
      h.id,
      h.drain ? `draining (${h.drain.remaining} left)` : h.state,
      labels === '' ? h.region : `${h.region} ${labels}`,
      `${humanSize(h.placed.memory)}/${humanSize(h.allocatable.memory)}`,
      `${placedCpu}/${cpu}`,
      String(h.instances),
      formatAge(h.lastHeartbeat, now),
      h.memoryEnforcement ?? '-',
    ];
  });
  return formatTable(['HOST', 'ID', 'STATE', 'REGION/LABELS', 'MEMORY', 'CPU', 'INSTANCES', 'HEARTBEAT', 'MEMORY LIMITS'], rows);
}

const print = (options: Options, host: HostSummary, text: string): void => {
  process.stdout.write(options.json ? `${JSON.stringify(host, null, 2)}\n` : `${text}\n`);
};

/** Polls the host until its drain ends, printing each change of what is left. */
async function followDrain(client: BerthClient, host: HostSummary, say: (line: string) => void): Promise<HostSummary> {
  let current = host;
  let shown = -1;
  while (current.state === 'draining') {
    const remaining = current.drain?.remaining ?? 0;
    if (remaining !== shown) say(`${current.name}: ${remaining} instance${remaining === 1 ? '' : 's'} left to move (deadline ${current.drain?.deadline ?? '?'})`);
    shown = remaining;
    await sleep(1_000);
    current = await client.host(current.id);
  }
  return current;
}

export const hostsCommand: CommandModule = (program: Command) => {
  const hosts = withConnectOptions(
    program.command('hosts').description('list hosts: state, allocatable vs placed memory and CPU, instances, heartbeat, memory enforcement').option('--json', 'print JSON'),
  ).action(async (options: Options) => {
    const client = await connect(options);
    const { hosts: list } = await client.hosts();
    process.stdout.write(options.json ? `${JSON.stringify({ hosts: list }, null, 2)}\n` : `${formatHosts(list).join('\n')}\n`);
  });

  withConnectOptions(
    hosts.command('cordon').description('take no new placements on a host; its instances keep running').argument('<host>', 'host name or id').option('--reason <text>', 'why, for the record').option('--json', 'print JSON'),
  ).action(async (ref: string, options: Options & { reason?: string }) => {
    const host = await (await connect(options)).cordonHost(ref, options.reason === undefined ? {} : { reason: options.reason });
    print(options, host, `${host.name}: cordoned; its ${host.instances} instances keep running (berth hosts drain ${host.name} moves them)`);
  });

  withConnectOptions(
    hosts.command('uncordon').description('let a host take placements again (calls off a drain)').argument('<host>', 'host name or id').option('--json', 'print JSON'),
  ).action(async (ref: string, options: Options) => {
    const host = await (await connect(options)).uncordonHost(ref);
    print(options, host, `${host.name}: ${host.state}; it takes placements again`);
  });

  withConnectOptions(
    hosts
      .command('drain')
      .description('move the instances off a host (each replacement ready first), then leave it cordoned')
      .argument('<host>', 'host name or id')
      .option('--deadline <duration>', 'stop what is left after this long', '1h')
      .option('--max-parallel <n>', 'instances moved at once', '1')
      .option('--detach', 'return once the drain is recorded')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, options: DrainOptions) => {
    const deadline = durationFlag('--deadline', options.deadline);
    const maxParallel = Number(options.maxParallel);
    if (!Number.isSafeInteger(maxParallel) || maxParallel < 1) throw new ValidationError(`--max-parallel: ${JSON.stringify(options.maxParallel)} is not a whole number of 1 or more; write e.g. --max-parallel 2`);
    const client = await connect(options);
    const started = await client.drainHost(ref, { deadline: formatDuration(deadline), maxParallel });
    if (options.detach) {
      print(options, started, `${started.name}: draining ${started.instances} instances, ${maxParallel} at a time, deadline ${started.drain?.deadline ?? '?'} (berth hosts shows progress)`);
      return;
    }
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    const ended = await followDrain(client, started, say);
    if (ended.state !== 'cordoned' || ended.instances > 0) {
      print(options, ended, `${ended.name}: drain ended with the host ${ended.state} and ${ended.instances} instances on it`);
      process.exitCode = 1;
      return;
    }
    print(options, ended, `${ended.name}: drained; cordoned with no instances (berth hosts decommission ${ended.name} retires it)`);
  });

  withConnectOptions(
    hosts.command('decommission').description('retire a drained host: refused while it holds volumes; revokes its credential').argument('<host>', 'host name or id').option('--json', 'print JSON'),
  ).action(async (ref: string, options: Options) => {
    const host = await (await connect(options)).decommissionHost(ref);
    print(options, host, `${host.name}: decommissioned; its agent's credential is revoked`);
  });

  withConnectOptions(
    hosts
      .command('join-token')
      .description('make a token new hosts enroll with: berth agent --join <url> --token <token>')
      .option('--ttl <duration>', 'how long hosts may enroll with it', '1h')
      .option('--name <name>', 'what the token is for')
      .option('--json', 'print JSON'),
  ).action(async (options: Options & { ttl: string; name?: string }) => {
    durationFlag('--ttl', options.ttl);
    const client = await connect(options);
    const token = await client.createJoinToken({ ttl: options.ttl, ...(options.name === undefined ? {} : { name: options.name }) });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...token, url: client.url }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${token.token}\n`);
    process.stderr.write(`valid until ${token.expiresAt}; on the new host run:\n  berth agent --join ${client.url} --token ${token.token}\n`);
  });
};
