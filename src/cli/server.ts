// `berth server`: the control plane on its own — the store (embedded PGlite in the data
// directory, or a Postgres server), the API and the control loops (on the leader).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { startControlPlane } from '../api/control-plane.js';
import { parseListenAddress } from '../api/listen-address.js';
import { ApiListenError } from '../api/serve-api.js';
import { openEventStore } from '../store/open-store.js';
import { BERTH_SERVER, listenFailure } from './listen-failure.js';
import type { CommandModule } from './main.js';
import { untilSignal } from './until-signal.js';

interface ServerOptions {
  database?: string;
  data: string;
  listen: string;
  logLevel: string;
}

async function server(options: ServerOptions): Promise<void> {
  const listen = parseListenAddress(options.listen);
  const log = pino({ name: 'berth-server', level: options.logLevel });
  // The database, the admin token and the secret key live here: only this user may read it.
  await mkdir(options.data, { recursive: true, mode: 0o700 });
  const store = await openEventStore(options.database === undefined ? { data: join(options.data, 'db') } : { database: options.database });
  const cp = await startControlPlane({ store, dataDir: options.data, listen, log }).catch(async (error: unknown) => {
    await store.close();
    // a port in use and the like: one line naming the flag, not a stack trace
    throw error instanceof ApiListenError ? listenFailure('--listen', options.listen, error, BERTH_SERVER) : error;
  });
  process.stderr.write(`berth server: API ${cp.url}\nadmin token: ${cp.adminTokenPath}${cp.adminTokenCreated ? ' (created)' : ''}\n`);
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
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .action((options: ServerOptions) => server(options));
};
