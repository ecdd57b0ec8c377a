// `berth server`: the control plane on its own — the store (embedded PGlite in the data
// directory, or a Postgres server), the API and the control loops (on the leader).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { isEveryAddress, startControlPlane } from '../api/control-plane.js';
import { parseListenAddress } from '../api/listen-address.js';
import { ApiListenError } from '../api/serve-api.js';
import { ValidationError } from '../core/errors.js';
import { openEventStore } from '../store/open-store.js';
import { BERTH_SERVER, listenFailure } from './listen-failure.js';
import type { CommandModule } from './main.js';
import { untilSignal } from './until-signal.js';

interface ServerOptions {
  database?: string;
  data: string;
  listen: string;
  advertise?: string;
  logLevel: string;
}

/**
 * `--advertise http://10.0.0.5:7070`: the URL other replicas reach this one at, checked before
 * anything starts. Its origin only: other replicas add the API's paths (/v1/…) to it.
 */
export function parseAdvertiseUrl(text: string): string {
  const fix = 'write the http:// or https:// URL other replicas reach this one at, e.g. http://10.0.0.5:7070';
  // a user or password in what was typed is not echoed: errors end up in logs
  const value = JSON.stringify(text.replace(/\/\/[^/@]*@/, '//…@'));
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ValidationError(`--advertise: ${value} is not a URL; ${fix}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`--advertise: ${value} is not an http:// or https:// URL; ${fix}`);
  // A password would show wherever the URL does (logs, errors): not echoed, refused.
  if (url.username !== '' || url.password !== '') throw new ValidationError(`--advertise: the URL carries a user or password; leave them out (each forwarded read carries its reader's token); ${fix}`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new ValidationError(`--advertise: ${value} has a path, query or fragment; write scheme, host and port only, e.g. ${url.origin}`);
  }
  if (isEveryAddress(url.hostname)) throw new ValidationError(`--advertise: ${value}: no other machine reaches ${url.hostname}; ${fix}`);
  return url.origin;
}

const LOOPBACK = /^(127\.|localhost$|\[::1\]$)/;

/**
 * The line `berth server` prints when replicas may share its database (Postgres) and it
 * advertises a loopback URL it was not given: replicas on other machines could not forward log
 * reads to it. Undefined otherwise.
 */
export function loopbackAdvertiseWarning(options: Pick<ServerOptions, 'database' | 'advertise'>, advertiseUrl: string): string | undefined {
  if (options.database === undefined || options.advertise !== undefined || !LOOPBACK.test(new URL(advertiseUrl).hostname)) return undefined;
  return `berth server: other replicas of this database reach this one at ${advertiseUrl} (for berth logs); if any run on another machine, give --advertise the URL they reach it at\n`;
}

async function server(options: ServerOptions): Promise<void> {
  const listen = parseListenAddress(options.listen);
  const advertiseUrl = options.advertise === undefined ? undefined : parseAdvertiseUrl(options.advertise);
  const log = pino({ name: 'berth-server', level: options.logLevel });
  // The database, the admin token and the secret key live here: only this user may read it.
  await mkdir(options.data, { recursive: true, mode: 0o700 });
  const store = await openEventStore(options.database === undefined ? { data: join(options.data, 'db') } : { database: options.database });
  const cp = await startControlPlane({ store, dataDir: options.data, listen, ...(advertiseUrl === undefined ? {} : { advertiseUrl }), log }).catch(async (error: unknown) => {
    await store.close();
    // a port in use and the like: one line naming the flag, not a stack trace
    throw error instanceof ApiListenError ? listenFailure('--listen', options.listen, error, BERTH_SERVER) : error;
  });
  const advertised = cp.advertiseUrl === cp.url ? '' : ` (other replicas reach it at ${cp.advertiseUrl})`;
  process.stderr.write(`berth server: API ${cp.url}${advertised}\nadmin token: ${cp.adminTokenPath}${cp.adminTokenCreated ? ' (created)' : ''}\n`);
  const warning = loopbackAdvertiseWarning(options, cp.advertiseUrl);
  if (warning !== undefined) process.stderr.write(warning);
  await untilSignal();
  process.stderr.write('berth server: stopping\n');
  await cp.close();
}

export const serverCommand: CommandModule = (program: Command) => {
  program
    .command('server')
    .description('run the control plane: the API and the control loops over the event store')
    .option('--database <url>', 'Postgres server: postgres://user@host:5432/db (default: embedded, in the data directory)')
    .option('--data <dir>', 'data directory: embedded database, admin token, secret key, artifacts', '.berth')
    .option('--listen <address>', 'host:port of the API', '127.0.0.1:7070')
    .option('--advertise <url>', 'the URL other replicas reach this one at, for `berth logs` across replicas (default: the --listen URL; on 0.0.0.0 or ::, this machine\'s name and the port)')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .action((options: ServerOptions) => server(options));
};
