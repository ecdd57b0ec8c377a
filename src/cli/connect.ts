// How a client command finds its berth: --url/--token, else BERTH_URL/BERTH_TOKEN, else the
// `api-url` and `admin-token` files a local `berth up` or `berth server` wrote into its data
// directory (--data, default ./.berth).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { BerthClient } from '../client/berth-client.js';

export interface ConnectOptions {
  readonly url?: string;
  readonly token?: string;
  readonly data?: string;
}

export const DEFAULT_CLIENT_DATA_DIR = '.berth';

/** Adds --url, --token and --data to a client command. */
export const withConnectOptions = (command: Command): Command =>
  command
    .option('--url <url>', 'API of the berth to talk to (default: $BERTH_URL, else the one in --data)')
    .option('--token <token>', 'bearer token (default: $BERTH_TOKEN, else the admin token in --data)')
    .option('--data <dir>', 'data directory of a local berth up / berth server', DEFAULT_CLIENT_DATA_DIR);

const readTrimmed = async (path: string): Promise<string | undefined> => {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

export async function resolveConnection(
  options: ConnectOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; token: string }> {
  const data = options.data ?? DEFAULT_CLIENT_DATA_DIR;
  const url = options.url ?? env.BERTH_URL ?? (await readTrimmed(join(data, 'api-url')));
  if (url === undefined) {
    throw new ValidationError(
      `no berth to talk to: ${join(data, 'api-url')} does not exist; start one with berth up, pass --data <dir> of a running one, or set BERTH_URL and BERTH_TOKEN`,
    );
  }
  if (!/^https?:\/\//.test(url)) throw new ValidationError(`--url: ${JSON.stringify(url)} is not an http(s) URL; write e.g. http://127.0.0.1:7070`);
  const token = options.token ?? env.BERTH_TOKEN ?? (await readTrimmed(join(data, 'admin-token')));
  if (token === undefined) {
    throw new ValidationError(`no token for ${url}: pass --token, set BERTH_TOKEN, or run on the machine whose ${join(data, 'admin-token')} holds it`);
  }
  return { url, token };
}

export const connect = async (options: ConnectOptions): Promise<BerthClient> => new BerthClient(await resolveConnection(options));
