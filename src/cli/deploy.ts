// `berth deploy [-f berth.yaml] [service…]`: validates the file, packs each service directory
// into a content-addressed archive (uploaded only when the control plane lacks it), creates the
// service or changes it, creates a release and follows its rollout to the end (--detach: not).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { BerthClient } from '../client/berth-client.js';
import { packReleaseArchive } from '../client/release-archive.js';
import type { ReleaseInfo } from '../api/protocol/service-protocol.js';
import { BerthError, ValidationError } from '../core/errors.js';
import { jsonEqual } from '../domain/json-equal.js';
import type { ServiceSpec } from '../spec/service.js';
import type { BerthFile } from '../spec/berth-file.js';
import { parseBerthFile } from '../spec/parse.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';
import { watchRollout, type RolloutResult } from './rollout-watch.js';
import { formatIssue } from './validate.js';

export interface DeployOptions {
  readonly file: string;
  readonly services?: readonly string[];
  readonly detach?: boolean;
  /** keep a service's newest release when its code and spec are the same (berth up on restart) */
  readonly skipUnchanged?: boolean;
  /** progress lines (stderr for people); none: silent */
  readonly say?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface DeployedService {
  readonly service: string;
  readonly release: number;
  readonly digest: string;
  /** false: the control plane had the archive already */
  readonly uploaded: boolean;
  readonly serviceCreated: boolean;
  /** absent with --detach */
  readonly rollout?: RolloutResult;
}

async function readBerthFile(file: string): Promise<{ parsed: BerthFile; raw: Record<string, Record<string, unknown>> }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ValidationError(`${file}: no such file; pass -f <path> or create ${file} (see docs/berth-yaml.md)`);
    throw error;
  }
  const parsed = parseBerthFile(text);
  if (!parsed.ok) throw new ValidationError(`${file} is not valid; nothing was deployed:\n${parsed.error.map((i) => `  ${formatIssue(file, i)}`).join('\n')}`);
  // The API takes each service as written (it checks it again with the same rules).
  const data = parseYaml(text, { maxAliasCount: 100 }) as { services: Record<string, Record<string, unknown>> };
  return { parsed: parsed.value, raw: data.services };
}

/** The newest release when it has this code and spec and is live or rolling out. */
async function unchangedRelease(client: BerthClient, name: string, digest: string, spec: ServiceSpec): Promise<number | undefined> {
  let releases: ReleaseInfo[];
  try {
    releases = (await client.releases(name)).releases;
  } catch (error) {
    if (error instanceof BerthError && error.code === 'not_found') return undefined;
    throw error;
  }
  const latest = releases.at(-1);
  if (latest === undefined || !(latest.active || latest.rollingOut)) return undefined;
  return latest.digest === digest && jsonEqual(latest.spec, spec) ? latest.version : undefined;
}

export async function deployFile(client: BerthClient, options: DeployOptions): Promise<DeployedService[]> {
  const say = options.say ?? (() => undefined);
  const { parsed, raw } = await readBerthFile(options.file);
  const all = Object.keys(parsed.services);
  const chosen = options.services && options.services.length > 0 ? [...options.services] : all;
  const unknown = chosen.filter((name) => !all.includes(name));
  if (unknown.length > 0) throw new ValidationError(`${unknown.join(', ')}: not in ${options.file}; its services are ${all.join(', ')}`);

  const base = dirname(resolve(options.file));
  const released: DeployedService[] = [];
  for (const name of chosen) {
    const spec = parsed.services[name]!;
    const dir = resolve(base, spec.dir);
    const { archive, digest } = await packReleaseArchive(dir);
    const uploaded = !(await client.hasArtifact(digest));
    if (uploaded) await client.putArtifact(digest, archive);
    if (options.skipUnchanged) {
      const kept = await unchangedRelease(client, name, digest, spec);
      if (kept !== undefined) {
        say(`${name}: code and spec unchanged; keeping release ${kept}`);
        released.push({ service: name, release: kept, digest, uploaded: false, serviceCreated: false });
        continue;
      }
    }
    say(`${name}: ${uploaded ? `uploaded ${dir} (${Math.ceil(archive.length / 1024)} KiB, ${digest.slice(0, 19)})` : `code unchanged (${digest.slice(0, 19)}), not uploaded again`}`);
    const created = await client.createRelease(name, { digest, spec: raw[name] ?? {} });
    say(`${name}: release ${created.release} created${created.serviceCreated ? ' (new service)' : ''}; rolling out`);
    released.push({ service: name, release: created.release, digest, uploaded, serviceCreated: created.serviceCreated });
  }
  if (options.detach) return released;
  return Promise.all(
    released.map(async (r) => {
      const deadline = parsed.services[r.service]!.deploy.healthyDeadline;
      const rollout = await watchRollout(client, r.service, r.release, {
        onProgress: (line) => say(`${r.service}: release ${r.release}: ${line}`),
        // A revert takes a deadline more; beyond that something is stuck, and explain says what.
        timeoutMs: deadline * 2 + 120_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { ...r, rollout };
    }),
  );
}

export function formatRolloutSummary(results: readonly DeployedService[]): string[] {
  return results.map((r) => {
    if (r.rollout === undefined) return `${r.service}: release ${r.release} is rolling out (detached); follow it with berth status ${r.service}`;
    const { outcome, ready, desired, reason } = r.rollout;
    switch (outcome) {
      case 'live':
        return `${r.service}: release ${r.release} is live (${ready}/${desired} ready)`;
      case 'reverted':
        return `${r.service}: release ${r.release} was reverted: ${reason ?? 'it did not become healthy'}`;
      case 'failed':
        // the control plane's reason says what to do next (deploy a fix, or roll back where there is something to go back to)
        return `${r.service}: release ${r.release} failed: ${reason ?? 'unknown; deploy a fix, or berth rollback ' + r.service}`;
      case 'superseded':
        return `${r.service}: release ${r.release} was superseded by a newer release`;
      case 'deleted':
        return `${r.service}: the service was deleted during the rollout`;
    }
  });
}

export const deployFailed = (results: readonly DeployedService[]): boolean =>
  results.some((r) => r.rollout !== undefined && r.rollout.outcome !== 'live' && r.rollout.outcome !== 'superseded');

interface CliOptions extends ConnectOptions {
  file: string;
  detach?: boolean;
  json?: boolean;
}

export const deployCommand: CommandModule = (program: Command) => {
  withConnectOptions(
    program
      .command('deploy')
      .description('deploy services of berth.yaml: pack, upload what changed, release and roll out')
      .argument('[services...]', 'services to deploy (default: all in the file)')
      .option('-f, --file <path>', 'the berth.yaml', 'berth.yaml')
      .option('--detach', 'return once the release is created, without following the rollout')
      .option('--json', 'print the result as JSON'),
  ).action(async (services: string[], options: CliOptions) => {
    const client = await connect(options);
    const results = await deployFile(client, {
      file: options.file,
      services,
      ...(options.detach ? { detach: true } : {}),
      say: (line) => process.stderr.write(`${line}\n`),
    });
    if (options.json) process.stdout.write(`${JSON.stringify({ services: results }, null, 2)}\n`);
    else process.stdout.write(`${formatRolloutSummary(results).join('\n')}\n`);
    if (deployFailed(results)) process.exitCode = 1;
  });
};
