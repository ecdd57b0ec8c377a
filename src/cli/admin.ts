// `berth admin`: operator tools that work on the database directly, for a control plane that is
// stopped or being repaired. `rebuild` replays the event log into the projection tables.
import type { Command } from 'commander';
import { inlineProjections } from '../store/inline-projections.js';
import { DEFAULT_DATA_DIR, openEventStore } from '../store/open-store.js';
import { rebuildProjections } from '../store/rebuild.js';
import type { CommandModule } from './main.js';

interface StoreOptions {
  database?: string;
  data: string;
  json?: boolean;
}

async function rebuild(options: StoreOptions): Promise<void> {
  const started = performance.now();
  const location = options.database === undefined ? { data: options.data } : { database: options.database };
  // rebuild repairs a database; pointed at the wrong place it must say so, not make an empty one
  const store = await openEventStore({ ...location, existing: true });
  try {
    const { events } = await rebuildProjections(store.driver, inlineProjections);
    const tables = inlineProjections.map((p) => p.table);
    const ms = Math.round(performance.now() - started);
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ rebuilt: tables, events, ms })}\n`
        : `rebuilt ${tables.join(', ')} from ${events} events in ${ms} ms\n`,
    );
  } finally {
    await store.close();
  }
}

export const adminCommand: CommandModule = (program: Command) => {
  const admin = program.command('admin').description('operate on the database directly (run with the control plane stopped or not)');
  admin
    .command('rebuild')
    .description('rebuild the projection tables (services, releases, hosts, instances, volumes) from the event log')
    .option('--database <url>', 'Postgres server: postgres://user@host:5432/db')
    .option('--data <dir>', 'embedded database directory (when no --database)', DEFAULT_DATA_DIR)
    .option('--json', 'print the result as JSON')
    .action((options: StoreOptions) => rebuild(options));
};
