// `berth agent --join URL --token T`: the host agent. Enrolls once (the credential stays in the
// data directory), then runs the host's assigned instances through the driver. Stopping the
// agent leaves the instances running; the next agent on the same data directory adopts them.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { Agent } from '../agent/agent.js';
import { readCredential } from '../agent/agent-credential.js';
import { ProcessDriver } from '../agent/drivers/process/process-driver.js';
import { ValidationError } from '../core/errors.js';
import { parseSize } from '../core/quantity.js';
import type { CommandModule } from './main.js';
import { untilSignal } from './until-signal.js';

interface AgentCliOptions {
  join?: string;
  token?: string;
  data: string;
  labels?: string;
  reservedMemory: string;
  driver: string;
  name?: string;
  address: string;
  region: string;
  memoryEnforcement: string;
  logLevel: string;
}

export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--labels: ${JSON.stringify(pair)} is not key=value; write e.g. --labels zone=a,disk=ssd`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

const ENFORCEMENT = ['auto', 'cgroup-v2', 'cgroup-v1', 'none'] as const;

async function agent(given: AgentCliOptions): Promise<void> {
  // absolute from here on: instances run in directories under it, and their cwd must be absolute
  const options = { ...given, data: resolve(given.data) };
  if (options.driver !== 'process') throw new ValidationError(`--driver: ${JSON.stringify(options.driver)} is not a driver on this build; use --driver process`);
  const reserved = parseSize(options.reservedMemory);
  if (!reserved.ok) throw new ValidationError(`--reserved-memory: ${reserved.error}`);
  const enforcement = ENFORCEMENT.find((e) => e === options.memoryEnforcement);
  if (enforcement === undefined) throw new ValidationError(`--memory-enforcement: ${JSON.stringify(options.memoryEnforcement)}; use one of ${ENFORCEMENT.join(', ')}`);
  const labels = parseLabels(options.labels);
  // From the environment too, so the join token need not show in the process list.
  const joinToken = options.token ?? process.env.BERTH_JOIN_TOKEN;
  const stored = await readCredential(options.data);
  const controlPlane = options.join ?? stored?.url;
  if (controlPlane === undefined) throw new ValidationError('--join: missing; give the control plane URL, e.g. --join http://10.0.0.1:7070');
  if (!/^https?:\/\//.test(controlPlane)) throw new ValidationError(`--join: ${JSON.stringify(controlPlane)} is not an http(s) URL; write e.g. http://10.0.0.1:7070`);

  const log = pino({ name: 'berth-agent', level: options.logLevel });
  const driver = await ProcessDriver.open({ dataDir: options.data, memoryEnforcement: enforcement });
  const { adopted, exited } = driver.adoption;
  if (adopted.length + exited.length > 0) log.info({ adopted: adopted.length, exited: exited.length }, 'found instances of the previous agent');
  let running: Agent;
  try {
    running = await Agent.start({
      controlPlane,
      ...(joinToken === undefined ? {} : { joinToken }),
      dataDir: options.data,
      driver,
      log,
      name: options.name ?? hostname(),
      address: options.address,
      region: options.region,
      labels,
      reservedMemory: reserved.value,
    });
  } catch (error) {
    await driver.close();
    throw error;
  }
  process.stderr.write(`berth agent: host ${running.hostId} on ${controlPlane} (memory enforcement: ${driver.capabilities().memoryEnforcement})\n`);
  await untilSignal();
  await running.close();
  await driver.close();
  process.stderr.write('berth agent: stopped; instances keep running and the next agent adopts them\n');
}

export const agentCommand: CommandModule = (program: Command) => {
  program
    .command('agent')
    .description('run the host agent: enroll with a join token, then run the instances assigned to this host')
    .option('--join <url>', 'control plane URL, e.g. http://10.0.0.1:7070 (default: the one enrolled with)')
    .option('--token <token>', 'join token, needed on the first start only (or BERTH_JOIN_TOKEN)')
    .option('--data <dir>', 'agent data directory: credential, instances, releases', '.berth/agent')
    .option('--labels <pairs>', 'host labels for placement, e.g. zone=a,disk=ssd')
    .option('--reserved-memory <size>', 'memory kept for the system, never placed', '0')
    .option('--driver <name>', 'instance runtime', 'process')
    .option('--memory-enforcement <mode>', 'auto, cgroup-v2, cgroup-v1 or none', 'auto')
    .option('--name <name>', 'host name (default: the machine hostname)')
    .option('--address <ip>', 'address the edge reaches instances at', '127.0.0.1')
    .option('--region <region>', 'region of this host', 'default')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .action((options: AgentCliOptions) => agent(options));
};
