// `berth edge-token`: mints the token a standalone edge runs with, and shows how to start it.
import type { Command } from 'commander';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';

interface Options extends ConnectOptions {
  name?: string;
  json?: boolean;
}

export const edgeTokenCommand: CommandModule = (program: Command) => {
  withConnectOptions(
    program
      .command('edge-token')
      .description('make a token for a standalone edge: berth edge --control-plane <url> --token <token>')
      .option('--name <name>', 'which edge holds it, e.g. edge-eu-1')
      .option('--json', 'print JSON'),
  ).action(async (options: Options) => {
    const client = await connect(options);
    const token = await client.createEdgeToken(options.name === undefined ? {} : { name: options.name });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...token, url: client.url }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${token.token}\n`);
    process.stderr.write(`on the edge's machine run:\n  BERTH_TOKEN=<the token> berth edge --control-plane ${client.url} --listen :8080\n`);
  });
};
