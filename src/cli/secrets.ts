// `berth secrets set <svc> NAME… | --from-file F | NAME=value…`, `list`, `rm`: values go to the
// control plane once and are never printed back; a change rolls the service, followed like a
// deploy unless --detach. A bare NAME takes the value of the environment variable NAME, so the
// value stays out of argv, which every user of the host can read (ps, /proc/<pid>/cmdline).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { SecretsChanged } from '../api/protocol/secret-protocol.js';
import type { BerthClient } from '../client/berth-client.js';
import { ValidationError } from '../core/errors.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';
import { watchRollout } from './rollout-watch.js';
import { formatAge, formatTable } from './table.js';
import { ENV_NAME } from '../spec/names.js';

interface Options extends ConnectOptions {
  json?: boolean;
  detach?: boolean;
  fromFile?: string;
}

/** A variable name as people write them; a bare argument outside it may be a pasted value. */
const CONVENTIONAL_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Whether a bare argument may be named back in an error: a conventional name, and not shaped like
 * an upper-case key (AKIA… access key ids: 16 or more letters and digits, no "_").
 */
function nameable(text: string): boolean {
  return CONVENTIONAL_NAME.test(text) && !(text.length >= 16 && /\d/.test(text) && !text.includes('_'));
}

/**
 * `NAME=value` pairs; the value may hold `=`. Given `env` (the command line), a bare `NAME` takes
 * the value of the environment variable NAME; without it (a file), a line needs its `=`. Errors
 * name an entry by its name only, never its value.
 */
export function parsePairs(pairs: readonly string[], where: string, env?: Readonly<Record<string, string | undefined>>): Record<string, string> {
  // own keys only: 'constructor' or '__proto__' are names like any other
  const secrets: Record<string, string> = Object.create(null) as Record<string, string>;
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    // Without "=", the text may be a value pasted alone (sk_live_…, ghp_… fit the name syntax):
    // it is named back only when it looks like a conventional variable name (upper case).
    if (eq < 0 && env === undefined) throw new ValidationError(`${where} ${i + 1}: no "="; write NAME=value`);
    if (eq < 0 && !ENV_NAME.test(name)) {
      throw new ValidationError(`${where} ${i + 1}: neither NAME (letters, digits and "_") nor NAME=value; write e.g. DATABASE_URL to take the value of $DATABASE_URL`);
    }
    if (!ENV_NAME.test(name)) throw new ValidationError(`${where} ${i + 1}: ${JSON.stringify(name)} is not an environment variable name; write e.g. DATABASE_URL=…`);
    if (Object.hasOwn(secrets, name)) throw new ValidationError(`${where} ${i + 1}: ${eq >= 0 || nameable(name) ? name : 'that name'} is given twice; keep one`);
    const value = eq < 0 ? env?.[name] : pair.slice(eq + 1);
    if (value === undefined) {
      if (!nameable(name)) throw new ValidationError(`${where} ${i + 1}: no environment variable of that name is set; export it first (in bash: read -rs NAME && export NAME) and pass NAME, or give a file with --from-file`);
      throw new ValidationError(`${where} ${i + 1}: the environment variable ${name} is not set; export it first (in bash: read -rs ${name} && export ${name}) or give a file with --from-file`);
    }
    secrets[name] = value;
  });
  return secrets;
}

/** A dotenv-style file: NAME=value per line, blank lines and # comments skipped, one layer of quotes removed. */
export function parseSecretsFile(text: string, path: string): Record<string, string> {
  const pairs: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*export\s+/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    const unquoted = /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
    pairs.push(eq < 0 ? line : `${line.slice(0, eq).trim()}=${unquoted}`);
  }
  return parsePairs(pairs, `${path}: entry`);
}

async function reportChange(client: BerthClient, changed: SecretsChanged, options: Options, what: string): Promise<void> {
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  let outcome: string | undefined;
  if (changed.release !== null && changed.rolloutStarted && !options.detach) {
    const result = await watchRollout(client, changed.service, changed.release, { onProgress: (line) => say(`${changed.service}: release ${changed.release}: ${line}`) });
    outcome = result.outcome;
    if (result.outcome !== 'live') {
      say(`${changed.service}: release ${changed.release} ${result.outcome}${result.reason ? `: ${result.reason}` : ''}`);
      process.exitCode = 1;
    }
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...changed, ...(outcome === undefined ? {} : { outcome }) }, null, 2)}\n`);
    return;
  }
  const roll =
    changed.release === null
      ? 'the service has no release yet: its first deploy delivers them'
      : outcome === undefined
        ? `rolling out as release ${changed.release}`
        : `release ${changed.release} ${outcome}`;
  process.stdout.write(`${changed.service}: ${what} ${changed.changed.join(', ')}; ${roll}\n`);
}

export const secretsCommand: CommandModule = (program: Command) => {
  const secrets = program.command('secrets').description("set, list and remove a service's secrets (delivered as environment variables, encrypted at rest)");

  withConnectOptions(
    secrets
      .command('set')
      .description('set secrets and roll the service so its instances get them')
      .argument('<service>')
      .argument('[secrets...]', 'NAME … takes the value of the environment variable NAME, out of sight of ps; NAME=value also works, but any user of the host can read it with ps')
      .option('--from-file <file>', 'read NAME=value lines from a file (dotenv style)')
      .option('--detach', 'return once the change is recorded')
      .option('--json', 'print JSON'),
  ).action(async (service: string, args: string[], options: Options) => {
    const values = parsePairs(args, 'secret', process.env);
    if (options.fromFile !== undefined) {
      const text = await readFile(options.fromFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new ValidationError(`--from-file: cannot read ${options.fromFile} (${error.code ?? error.message}); give a file of NAME=value lines`);
      });
      for (const [name, value] of Object.entries(parseSecretsFile(text, options.fromFile))) {
        if (Object.hasOwn(values, name)) throw new ValidationError(`${name} is given both on the command line and in ${options.fromFile}; keep one`);
        values[name] = value;
      }
    }
    if (Object.keys(values).length === 0) throw new ValidationError('no secrets given; write berth secrets set <service> NAME … (each read from the environment variable NAME) or --from-file .env');
    const client = await connect(options);
    await reportChange(client, await client.setSecrets(service, values), options, 'set');
  });

  withConnectOptions(
    secrets.command('list').description('secret names with versions and update times (never values)').argument('<service>').option('--json', 'print JSON'),
  ).action(async (service: string, options: Options) => {
    const list = await (await connect(options)).secrets(service);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return;
    }
    if (list.secrets.length === 0) {
      process.stdout.write(`${list.service} has no secrets; berth secrets set ${list.service} NAME adds one from the environment variable NAME\n`);
      return;
    }
    const rows = list.secrets.map((s) => [s.name, s.version === null ? 'NOT SET' : `v${s.version}`, s.updatedAt === null ? '-' : `${s.updatedAt} (${formatAge(s.updatedAt)})`, s.declared ? 'berth.yaml' : 'secrets set']);
    process.stdout.write(`${formatTable(['NAME', 'VERSION', 'UPDATED', 'FROM'], rows).join('\n')}\n`);
  });

  withConnectOptions(
    secrets.command('rm').description('remove secrets and roll the service').argument('<service>').argument('<names...>').option('--detach', 'return once the change is recorded').option('--json', 'print JSON'),
  ).action(async (service: string, names: string[], options: Options) => {
    const client = await connect(options);
    let last: SecretsChanged | undefined;
    for (const name of names) last = await client.removeSecret(service, name);
    if (last) await reportChange(client, { ...last, changed: names }, options, 'removed');
  });
};
