// The `berth` command line: one file wires every command, each registered from its own module.
import { Command, CommanderError } from 'commander';
import { BerthError } from '../core/errors.js';
import { adminCommand } from './admin.js';
import { agentCommand } from './agent.js';
import { deployCommand } from './deploy.js';
import { edgeCommand } from './edge.js';
import { explainCommand } from './explain.js';
import { hostsCommand } from './hosts.js';
import { logsCommand } from './logs.js';
import { releasesCommand } from './releases.js';
import { scaleCommand } from './scale.js';
import { scaleVmCommand } from './scale-vm.js';
import { secretsCommand } from './secrets.js';
import { serverCommand } from './server.js';
import { simCommand } from './sim.js';
import { statusCommand } from './status.js';
import { upCommand } from './up.js';
import { validateCommand } from './validate.js';

/** A command module adds its subcommand(s) to the program; actions set process.exitCode on failure. */
export type CommandModule = (program: Command) => void;

const commands: CommandModule[] = [validateCommand, simCommand, adminCommand, edgeCommand, serverCommand, agentCommand, upCommand, deployCommand, releasesCommand, scaleCommand, scaleVmCommand, statusCommand, explainCommand, hostsCommand, secretsCommand, logsCommand];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('berth')
    .description('berth: a self-hostable scaling control plane for app platforms')
    .version('0.1.0')
    .exitOverride()
    // A command group with options of its own (`berth scale web 3 --json`) hands later options to its subcommand.
    .enablePositionalOptions()
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0
      return error.exitCode;
    }
    if (error instanceof BerthError) {
      process.stderr.write(`berth: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  return Number(process.exitCode ?? 0);
}
