// `berth logs <service> [--instance ID] [-f] [--since 10m] [--tail 100]`: the lines of a
// service's instances, each prefixed with its instance; -f follows until Ctrl-C.
import type { Command } from 'commander';
import type { LogEntry } from '../api/protocol/log-protocol.js';
import { ValidationError } from '../core/errors.js';
import { parseDuration } from '../core/quantity.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';

interface Options extends ConnectOptions {
  instance?: string;
  follow?: boolean;
  since?: string;
  tail: string;
  json?: boolean;
}

export function formatEntry(entry: LogEntry, width: number): string {
  const prefix = entry.instance.padEnd(width);
  return 'line' in entry ? `${prefix} | ${entry.line}` : `${prefix} ! ${entry.error}`;
}

export const logsCommand: CommandModule = (program: Command) => {
  withConnectOptions(
    program
      .command('logs')
      .description("print a service's logs, merged across its instances and hosts with an instance prefix")
      .argument('<service>')
      .option('--instance <id>', 'one instance only')
      .option('-f, --follow', 'keep printing new lines until Ctrl-C')
      .option('--since <duration>', 'only lines written in the last 10m, 1h, … (to about a second)')
      .option('--tail <lines>', 'lines per instance to start with', '100')
      .option('--json', 'print NDJSON: {instance, line} or {instance, error} per line'),
  ).action(async (service: string, options: Options) => {
    const tail = Number(options.tail);
    if (!Number.isSafeInteger(tail) || tail < 0) throw new ValidationError(`--tail: ${JSON.stringify(options.tail)} is not a whole number of 0 or more; write e.g. --tail 100`);
    if (options.since !== undefined) {
      const since = parseDuration(options.since);
      if (!since.ok) throw new ValidationError(`--since: ${since.error}`);
    }
    const client = await connect(options);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let width = 0;
    let failed = false;
    try {
      for await (const entry of client.logs(service, {
        tail,
        follow: options.follow === true,
        ...(options.instance === undefined ? {} : { instance: options.instance }),
        ...(options.since === undefined ? {} : { since: options.since }),
        signal: stop.signal,
      })) {
        if ('error' in entry) failed = true;
        width = Math.max(width, entry.instance.length);
        process.stdout.write(options.json ? `${JSON.stringify(entry)}\n` : `${formatEntry(entry, width)}\n`);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    // An instance whose logs could not be read makes the command fail, after the others printed.
    if (failed && !stop.signal.aborted) process.exitCode = 1;
  });
};
