// `berth scale vm <svc> --memory 512Mi --cpu 1`: vertical scaling. The new size per instance is a
// spec change, released and rolled out like a deploy (health-gated, reverted on failure).
import type { Command } from 'commander';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';
import { followRelease } from './releases.js';

interface Options extends ConnectOptions {
  memory?: string;
  cpu?: string;
  detach?: boolean;
  json?: boolean;
}

/** Adds `vm` to a `scale` command, whoever registered it. */
export function addScaleVm(scale: Command): Command {
  return withConnectOptions(
    scale
      .command('vm')
      .description('vertical scaling: change memory and CPU per instance, rolled out like a release')
      .argument('<service>')
      .option('--memory <size>', 'memory per instance, e.g. 512Mi or 1Gi')
      .option('--cpu <cpu>', 'CPU per instance, e.g. 1, 0.5 or 250m')
      .option('--detach', 'return once the release is created')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: Options) => {
    const client = await connect(options);
    const created = await client.resize(service, {
      ...(options.memory === undefined ? {} : { memory: options.memory }),
      ...(options.cpu === undefined ? {} : { cpu: options.cpu }),
    });
    process.stderr.write(`${service}: release ${created.release} resizes the instances; rolling out\n`);
    const { releases } = await client.releases(service);
    await followRelease(options, client, created, releases.find((r) => r.version === created.release)?.digest ?? '');
  });
}

/** Finds `scale` or registers it, so this and the other scale subcommands share one parent. */
export const scaleVmCommand: CommandModule = (program: Command) => {
  const scale = program.commands.find((c) => c.name() === 'scale') ?? program.command('scale').description('scale services: instance counts, autoscaling bounds, bursts, instance size');
  addScaleVm(scale);
};
