// The `berth` command line: one file wires every command, each registered from its own module.
import { Command, CommanderError } from 'commander';
import { BerthError } from '../core/errors.js';
/** A command module adds its subcommand(s) to the program; actions set process.exitCode on failure. */
export type CommandModule = (program: Command) => void;

// Each command's module is loaded only when that command runs (all of them for help), so a
// long-lived role such as `berth agent` does not carry the control plane's code in its memory.
const commands: Record<string, () => Promise<CommandModule[]>> = {
  validate: async () => [(await import('./validate.js')).validateCommand],
  sim: async () => [(await import('./sim.js')).simCommand],
  admin: async () => [(await import('./admin.js')).adminCommand],
  edge: async () => [(await import('./edge.js')).edgeCommand],
  'edge-token': async () => [(await import('./edge-token.js')).edgeTokenCommand],
  server: async () => [(await import('./server.js')).serverCommand],
  agent: async () => [(await import('./agent.js')).agentCommand],
  up: async () => [(await import('./up.js')).upCommand],
  deploy: async () => [(await import('./deploy.js')).deployCommand],
  releases: async () => [(await import('./releases.js')).releasesCommand],
  rollback: async () => [(await import('./releases.js')).releasesCommand],
  // `scale vm` attaches to the `scale` group, so it registers after it
  scale: async () => [(await import('./scale.js')).scaleCommand, (await import('./scale-vm.js')).scaleVmCommand],
  status: async () => [(await import('./status.js')).statusCommand],
  explain: async () => [(await import('./explain.js')).explainCommand],
  hosts: async () => [(await import('./hosts.js')).hostsCommand],
  secrets: async () => [(await import('./secrets.js')).secretsCommand],
  logs: async () => [(await import('./logs.js')).logsCommand],
};

async function commandModules(name: string | undefined): Promise<CommandModule[]> {
  const load = name === undefined ? undefined : commands[name];
  if (load) return load();
  const all = new Set((await Promise.all(Object.values(commands).map((l) => l()))).flat());
  return [...all];
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('berth')
    .description('berth: a self-hostable scaling control plane for app platforms')
    .version('0.1.0')
    .exitOverride()
    // A command group with options of its own (`berth scale web 3 --json`) hands later options to its subcommand.
    .enablePositionalOptions()
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const register of await commandModules(argv[2])) register(program);
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
