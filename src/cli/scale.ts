// `berth scale`: a fixed count (`berth scale web 3`), autoscale bounds and target (`set`), a burst
// that raises the floor for a while (`burst`), what the autoscaler is doing (`show`), autoscaling
// off (`off`); instance size (`vm`, vertical scaling) is scale-vm.ts.
import type { Command } from 'commander';
import type { ScaleView, SetScale } from '../api/protocol/scale-protocol.js';
import { ValidationError } from '../core/errors.js';
import { formatDuration } from '../core/quantity.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';

interface Options extends ConnectOptions {
  json?: boolean;
}

interface SetOptions extends Options {
  min?: string;
  max?: string;
  target?: string;
  idle?: string;
  stabilization?: string;
}

interface BurstOptions extends Options {
  for?: string;
  end?: boolean;
}

const TARGET_KINDS = ['concurrency', 'rps', 'cpu'] as const;

function wholeNumber(flag: string, text: string, least: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < least) {
    throw new ValidationError(`${flag}: "${text}" is not a whole number of ${least} or more; write e.g. ${flag.startsWith('-') ? `${flag} ${least + 2}` : least + 2}`);
  }
  return n;
}

/** `concurrency=20`, `rps=100`, `cpu=70`, or `<metric>=<per-instance value>` for an external metric. */
export function parseTarget(text: string): SetScale['target'] {
  const match = /^([a-zA-Z_][a-zA-Z0-9_.:-]*)=(.+)$/.exec(text.trim());
  const value = match ? Number(match[2]) : NaN;
  if (!match || !Number.isFinite(value)) {
    throw new ValidationError(`--target: "${text}" is not kind=value; write concurrency=20, rps=100, cpu=70, or queue_depth=100 for an external metric`);
  }
  const kind = match[1]!;
  return (TARGET_KINDS as readonly string[]).includes(kind) ? { [kind]: value } : { metric: kind, value };
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

function describeTarget(view: ScaleView): string {
  const target = view.scale?.target;
  if (target === undefined) return '';
  if (target.type === 'metric') return `${target.metric} ${target.value} per instance`;
  return `${target.type} ${target.value}${target.type === 'cpu' ? '%' : ''} per instance`;
}

function since(at: string, now: number): string {
  const ms = Math.max(0, now - Date.parse(at));
  return ms < 1000 ? 'just now' : `${formatDuration(Math.round(ms / 1000) * 1000)} ago`;
}

/** The screen `berth scale show` prints, and every other scale command after its change. */
export function formatScaleView(view: ScaleView, now = Date.now()): string {
  const lines: string[] = [];
  if (view.scale === null) {
    lines.push(`${view.service}: fixed at ${plural(view.replicas ?? 0, 'instance')}`);
  } else {
    const idle = view.scale.idle === undefined ? '' : `, to zero after ${formatDuration(view.scale.idle)} idle`;
    const stabilization = view.scale.stabilization === undefined ? '' : `, scale-down stabilization ${formatDuration(view.scale.stabilization)}`;
    lines.push(`${view.service}: autoscaled ${view.scale.min}..${view.scale.max} on ${describeTarget(view)}${idle}${stabilization}`);
  }
  if (view.burst !== null) {
    const left = Math.max(0, Date.parse(view.burst.until) - now);
    lines.push(`  burst     at least ${view.burst.replicas} until ${view.burst.until} (${formatDuration(Math.ceil(left / 1000) * 1000)} left)`);
  }
  const { desired, placed, ready } = view.current;
  lines.push(`  now       desired ${desired}, placed ${placed}, ready ${ready}`);
  if (view.pending !== null) lines.push(`  pending   ${view.pending.wants}: ${view.pending.reason} (${since(view.pending.at, now)})`);
  else if (view.scale !== null) lines.push('  pending   not evaluated here (the leading control plane runs the autoscaler)');
  if (view.decisions.length > 0) {
    lines.push('  decisions (newest first)');
    for (const d of view.decisions) lines.push(`    ${d.at}  ${d.from} → ${d.to}  ${d.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

const print = (options: Options, view: ScaleView): void => {
  process.stdout.write(options.json ? `${JSON.stringify(view)}\n` : formatScaleView(view));
};

export const scaleCommand: CommandModule = (program: Command) => {
  const scale = withConnectOptions(
    program
      .command('scale')
      .description('scale services: a fixed count (berth scale web 3), autoscaling (set, off), bursts, what the autoscaler does (show), instance size (vm)')
      // Positional options: `berth scale show web --json` gives --json to show, not to scale.
      .enablePositionalOptions()
      .argument('[service]', 'the service to give a fixed count')
      .argument('[replicas]', 'the fixed instance count')
      .option('--json', 'print JSON'),
  ).action(async (service: string | undefined, replicas: string | undefined, options: Options, command: Command) => {
    if (service === undefined || replicas === undefined) {
      command.outputHelp();
      throw new ValidationError('berth scale: give a service and a count (berth scale web 3), or a subcommand (set, burst, show, off, vm)');
    }
    const count = wholeNumber('replicas', replicas, 0);
    print(options, await (await connect(options)).setReplicas(service, count));
  });

  withConnectOptions(
    scale
      .command('set')
      .description('autoscale between --min and --max toward a per-instance --target (flags not given keep their current value)')
      .argument('<service>')
      .option('--min <n>', 'fewest instances; 0 lets an idle service go to zero')
      .option('--max <n>', 'most instances')
      .option('--target <kind=value>', 'per-instance load: concurrency=20, rps=100, cpu=70, or <metric>=<value> for a pushed metric')
      .option('--idle <duration>', 'with --min 0: how long without traffic before going to zero (default 5m)')
      .option('--stabilization <duration>', 'scale down no lower than the highest count asked for within this window (default 5m)')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: SetOptions) => {
    const client = await connect(options);
    const current = (await client.scale(service, { decisions: 0 })).scale;
    const target = options.target === undefined ? undefined : parseTarget(options.target);
    const min = options.min === undefined ? current?.min : wholeNumber('--min', options.min, 0);
    const max = options.max === undefined ? current?.max : wholeNumber('--max', options.max, 1);
    const currentTarget = current === null ? undefined : current.target.type === 'metric' ? { metric: current.target.metric ?? '', value: current.target.value } : { [current.target.type]: current.target.value };
    if (max === undefined) throw new ValidationError(`--max: ${service} is not autoscaled yet; give --max (and --target), e.g. berth scale set ${service} --min 1 --max 10 --target concurrency=20`);
    const body: SetScale = {
      ...(min === undefined ? {} : { min }),
      max,
      target: target ?? currentTarget ?? {},
      // A set that keeps min 0 keeps the idle period too, unless given anew.
      ...(options.idle !== undefined ? { idle: options.idle } : min === 0 && current?.idle !== undefined ? { idle: formatDuration(current.idle) } : {}),
      ...(options.stabilization !== undefined
        ? { stabilization: options.stabilization }
        : current?.stabilization !== undefined
          ? { stabilization: formatDuration(current.stabilization) }
          : {}),
    };
    print(options, await client.setScale(service, body));
  });

  withConnectOptions(
    scale
      .command('burst')
      .description('raise the floor to <replicas> for a while (berth scale burst web 4 --for 30m), or end it (--end)')
      .argument('<service>')
      .argument('[replicas]')
      .option('--for <duration>', 'how long the burst lasts: 30m, 2h')
      .option('--end', 'end the running burst now')
      .option('--json', 'print JSON'),
  ).action(async (service: string, replicas: string | undefined, options: BurstOptions) => {
    const client = await connect(options);
    if (options.end) return print(options, await client.endBurst(service));
    if (replicas === undefined) throw new ValidationError(`replicas: missing; write berth scale burst ${service} 4 --for 30m`);
    const count = wholeNumber('replicas', replicas, 1);
    if (options.for === undefined) throw new ValidationError(`--for: missing; a burst expires, write e.g. berth scale burst ${service} ${count} --for 30m`);
    print(options, await client.startBurst(service, { replicas: count, for: options.for }));
  });

  withConnectOptions(
    scale
      .command('show')
      .description('the scale spec, desired/placed/ready now, what the autoscaler would do next, and its last decisions with reasons')
      .argument('<service>')
      .option('--decisions <n>', 'how many of the last decisions to list', '10')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: Options & { decisions: string }) => {
    const decisions = wholeNumber('--decisions', options.decisions, 0);
    print(options, await (await connect(options)).scale(service, { decisions }));
  });

  withConnectOptions(
    scale
      .command('off')
      .description('autoscaling off: the service keeps its current count, fixed')
      .argument('<service>')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: Options) => {
    print(options, await (await connect(options)).scaleOff(service));
  });

  // `vm` joins this group from scale-vm.ts (registered after this module in main.ts).
};
