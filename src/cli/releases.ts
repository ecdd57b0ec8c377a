// `berth releases <svc>` lists a service's releases; `berth rollback <svc> [--to N]` restores the
// code, spec and env of an earlier release as a new release and follows its rollout.
import type { Command } from 'commander';
import type { ReleaseInfo } from '../api/protocol/service-protocol.js';
import { formatCpu, formatSize } from '../core/quantity.js';
import { ValidationError } from '../core/errors.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import { deployFailed, formatRolloutSummary, type DeployedService } from './deploy.js';
import type { CommandModule } from './main.js';
import { watchRollout } from './rollout-watch.js';

interface Options extends ConnectOptions {
  json?: boolean;
  to?: string;
  detach?: boolean;
}

function releaseState(r: ReleaseInfo): string {
  if (r.active) return 'live';
  if (r.rollingOut) return 'rolling out';
  if (r.revertedAt) return `reverted: ${r.revertReason ?? ''}`;
  if (r.rolledOutAt) return 'replaced';
  return 'never live';
}

export function formatReleases(releases: readonly ReleaseInfo[]): string[] {
  const rows = releases.map((r) => {
    const resources = r.spec.resources as { memory?: number; cpu?: number } | undefined;
    return [
      `v${r.version}`,
      r.digest.slice(0, 19),
      r.createdAt.replace('T', ' ').slice(0, 19),
      resources?.memory === undefined || resources.cpu === undefined ? '' : `${formatSize(resources.memory)}/${formatCpu(resources.cpu)}`,
      releaseState(r),
    ];
  });
  const header = ['RELEASE', 'DIGEST', 'CREATED', 'MEM/CPU', 'STATE'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [header, ...rows].map((r) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd());
}

/** Follows a release created by rollback or resize, printing like deploy; sets the exit code. */
export async function followRelease(
  options: { json?: boolean; detach?: boolean },
  client: Awaited<ReturnType<typeof connect>>,
  created: { service: string; release: number },
  digest: string,
): Promise<void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const base: DeployedService = { service: created.service, release: created.release, digest, uploaded: false, serviceCreated: false };
  const result: DeployedService = options.detach
    ? base
    : { ...base, rollout: await watchRollout(client, created.service, created.release, { onProgress: (line) => say(`${created.service}: release ${created.release}: ${line}`) }) };
  if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${formatRolloutSummary([result]).join('\n')}\n`);
  if (deployFailed([result])) process.exitCode = 1;
}

export const releasesCommand: CommandModule = (program: Command) => {
  withConnectOptions(
    program
      .command('releases')
      .description('list the releases of a service, oldest first')
      .argument('<service>')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: Options) => {
    const client = await connect(options);
    const { releases } = await client.releases(service);
    process.stdout.write(options.json ? `${JSON.stringify({ service, releases }, null, 2)}\n` : `${formatReleases(releases).join('\n')}\n`);
  });

  withConnectOptions(
    program
      .command('rollback')
      .description('restore the code, spec and env of an earlier release (default: the one before the live one) and roll it out')
      .argument('<service>')
      .option('--to <release>', 'the release to restore, e.g. 3 or v3')
      .option('--detach', 'return once the release is created')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: Options) => {
    let to: number | undefined;
    if (options.to !== undefined) {
      to = Number(options.to.replace(/^v/, ''));
      if (!Number.isSafeInteger(to) || to < 1) throw new ValidationError(`--to: ${JSON.stringify(options.to)} is not a release; write a release number, e.g. --to 3`);
    }
    const client = await connect(options);
    const created = await client.rollback(service, to === undefined ? {} : { to });
    process.stderr.write(`${service}: release ${created.release} restores release ${created.restoredFrom ?? '?'}; rolling out\n`);
    const { releases } = await client.releases(service);
    await followRelease(options, client, created, releases.find((r) => r.version === created.release)?.digest ?? '');
  });
};
