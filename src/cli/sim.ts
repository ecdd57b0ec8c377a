// `berth sim`: the cluster simulator offline — generate a fleet and a workload, place it with
// the scheduler, check a plan with independent arithmetic, explain one placement.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { humanSize } from '../core/quantity.js';
import { explain } from '../scheduler/explain.js';
import { formatExplanation } from '../scheduler/format-explanation.js';
import type { Strategy } from '../scheduler/fleet.js';
import { instanceName } from '../scheduler/request.js';
import { applyPlan } from '../sim/apply-plan.js';
import { checkPlan } from '../sim/check.js';
import { fleetFromFile, readFleetFile, type FleetFile } from '../sim/fleet-file.js';
import { planFigures } from '../sim/figures.js';
import { generate, PROFILES, type Profile } from '../sim/generate.js';
import { placeWorkload } from '../sim/place-workload.js';
import { readPlanFile } from '../sim/plan-file.js';
import { readWorkloadFile, requestsFromWorkload, type WorkloadFile } from '../sim/workload-file.js';
import type { CommandModule } from './main.js';

const count = (n: number): string => n.toLocaleString('en-US');

/** A whole-number flag of at least `min`; `why` says what a smaller one would mean. */
function wholeNumber(flag: string, min: number, why: string, example: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number; write e.g. ${flag} ${example}`);
    if (n < min) throw new InvalidArgumentError(`${n} is below ${min}: ${why}; write e.g. ${flag} ${example}`);
    return n;
  };
}

const hostCount = wholeNumber('--hosts', 1, 'a fleet needs at least one host', 100);
const instanceCount = wholeNumber('--instances', 0, 'an instance count cannot be negative', 1000);
const candidateCount = wholeNumber('--candidates', 1, 'placement ranks at least one candidate host', 2);

/** Above 1 the workload asks for more than fits (almost-full does, with 1.2); far above is a percent written as a fraction. */
const MAX_FILL = 2;

function fill(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number; write a fraction of the free memory, e.g. --fill 0.7`);
  if (n <= 0) throw new InvalidArgumentError(`${n} asks for no memory; write a fraction of the free memory above 0, e.g. --fill 0.7`);
  if (n > MAX_FILL) {
    const fix = n <= 100 ? `for ${n}% write --fill ${n / 100}` : 'write a fraction, e.g. --fill 0.7';
    throw new InvalidArgumentError(`${n} asks for more than ${MAX_FILL}× the free memory; ${fix}`);
  }
  return n;
}

function strategy(value: string): Strategy {
  if (value !== 'binpack' && value !== 'spread') throw new InvalidArgumentError(`"${value}" is not a strategy; write binpack or spread`);
  return value;
}

function profile(value: string): Profile {
  if (!(PROFILES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`"${value}" is not a profile; write one of ${PROFILES.join(', ')}`);
  }
  return value as Profile;
}

/** Seeds are numbers when they look like one, so `--seed 7` and the default agree with the API. */
const seed = (value: string): number | string => (/^\d+$/.test(value) ? Number(value) : value);

/** An input file: the flag that names it and the command that writes one. */
interface SimInput {
  readonly flag: '--fleet' | '--workload' | '--plan';
  readonly name: string;
  readonly writer: string;
}

const FLEET: SimInput = { flag: '--fleet', name: 'fleet.json', writer: 'berth sim generate --hosts 100 --instances 1000 --out sim' };
const WORKLOAD: SimInput = { flag: '--workload', name: 'workload.json', writer: 'berth sim generate --hosts 100 --instances 1000 --out sim' };
const PLAN: SimInput = { flag: '--plan', name: 'plan.json', writer: 'berth sim place --fleet sim/fleet.json --workload sim/workload.json --out sim/plan.json' };

/** `line:col` of an offset in `text`, 1-based. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/** Why JSON.parse refused `text`, in our words, and where when it says. */
function jsonProblem(text: string, error: Error): { at?: string; problem: string } {
  if (text.trim() === '') return { at: '1:1', problem: 'the file is empty' };
  // V8 says "Unexpected end of JSON input", "… in JSON at position 7 (line 1 column 8)" or
  // "Unexpected token '}', "{"a":}" is not valid JSON" (no position)
  if (error.message.startsWith('Unexpected end of JSON input')) return { at: lineCol(text, text.trimEnd().length), problem: 'the text ends early' };
  const position = /in JSON at position (\d+)/.exec(error.message);
  const problem = error.message.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '');
  return { ...(position === null ? {} : { at: lineCol(text, Number(position[1])) }), problem: `${problem.charAt(0).toLowerCase()}${problem.slice(1)}` };
}

function readJson(path: string, input: SimInput): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${input.flag} ${path}: no such file; pass ${input.flag} <path> of a ${input.name}, or write one first with ${input.writer}`);
    if (code === 'EISDIR') throw new ValidationError(`${input.flag} ${path}: is a directory; pass ${input.flag} ${join(path, input.name)} or another file in it`);
    if (code === 'EACCES') throw new ValidationError(`${input.flag} ${path}: permission denied; make the file readable`);
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const { at, problem } = jsonProblem(text, error as Error);
    const where = at === undefined ? path : `${path}:${at}`;
    throw new ValidationError(`${where} is not JSON: ${problem}; fix it${at === undefined ? '' : ' there'}, or write the file again with ${input.writer}`);
  }
}

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

function allocatable(fleet: FleetFile): number {
  return fleetFromFile(fleet)
    .hosts.filter((h) => h.state === 'schedulable')
    .reduce((sum, h) => sum + h.memory.physical - h.memory.reserved - h.memory.safetyBuffer, 0);
}

function loadInputs(options: { fleet: string; workload: string }): { fleet: FleetFile; workload: WorkloadFile } {
  return {
    fleet: readFleetFile(readJson(options.fleet, FLEET), basename(options.fleet)),
    workload: readWorkloadFile(readJson(options.workload, WORKLOAD), basename(options.workload)),
  };
}

interface GenerateFlags {
  hosts: number;
  instances: number;
  seed: number | string;
  fill?: number;
  profile: Profile;
  out: string;
  json?: boolean;
}

interface PlaceFlags {
  fleet: string;
  workload: string;
  strategy?: Strategy;
  seed: number | string;
  candidates?: number;
  out: string;
  json?: boolean;
}

interface CheckFlags {
  fleet: string;
  workload: string;
  plan: string;
  json?: boolean;
}

interface ExplainFlags {
  fleet: string;
  workload: string;
  plan?: string;
  instance: string;
  strategy?: Strategy;
  seed: number | string;
  json?: boolean;
}

export const simCommand: CommandModule = (program: Command) => {
  const sim = program.command('sim').description('simulate a fleet: generate, place and check placements offline');

  sim
    .command('generate')
    .description('write a seeded fleet.json and workload.json')
    .requiredOption('--hosts <n>', 'hosts in the fleet (1 or more)', hostCount)
    .requiredOption('--instances <n>', 'instances in the workload', instanceCount)
    .option('--seed <seed>', 'seed; the same seed writes the same files', seed, 1)
    .option('--fill <fraction>', `memory the workload asks for, as a fraction of the fleet's free memory, above 0 and at most ${MAX_FILL} (default 0.7)`, fill)
    .option('--profile <profile>', `fleet shape: ${PROFILES.join(', ')}`, profile, 'mixed')
    .requiredOption('--out <dir>', 'directory to write fleet.json and workload.json to')
    .option('--json', 'print a JSON summary')
    .action((flags: GenerateFlags) => {
      const { fleet, workload } = generate({
        hosts: flags.hosts,
        instances: flags.instances,
        seed: flags.seed,
        profile: flags.profile,
        ...(flags.fill === undefined ? {} : { fill: flags.fill }),
      });
      mkdirSync(flags.out, { recursive: true });
      const fleetPath = join(flags.out, 'fleet.json');
      const workloadPath = join(flags.out, 'workload.json');
      writeFileSync(fleetPath, `${JSON.stringify(fleet)}\n`);
      writeFileSync(workloadPath, `${JSON.stringify(workload)}\n`);
      const requested = requestsFromWorkload(workload).reduce((sum, r) => sum + r.resources.memory, 0);
      const capacity = allocatable(fleet);
      const summary = {
        fleet: fleetPath,
        workload: workloadPath,
        hosts: fleet.hosts.length,
        schedulable: fleet.hosts.filter((h) => (h.state ?? 'schedulable') === 'schedulable').length,
        allocatable: capacity,
        services: workload.services.length,
        instances: workload.services.reduce((sum, s) => sum + s.replicas, 0),
        requested,
      };
      if (flags.json) return printJson(summary);
      print(`wrote ${fleetPath}: ${count(summary.hosts)} hosts (${count(summary.schedulable)} schedulable, ${humanSize(capacity)} allocatable)`);
      print(
        `wrote ${workloadPath}: ${count(summary.services)} services, ${count(summary.instances)} instances asking ${humanSize(requested)} (${((requested / Math.max(1, capacity)) * 100).toFixed(1)}% of allocatable)`,
      );
    });

  sim
    .command('place')
    .description('place a workload on a fleet with the scheduler and write plan.json')
    .requiredOption('--fleet <file>', 'fleet.json')
    .requiredOption('--workload <file>', 'workload.json')
    .option('--strategy <strategy>', "binpack or spread (default: each cluster's own)", strategy)
    .option('--seed <seed>', 'seed of the host order', seed, 1)
    .option('--candidates <n>', 'candidates ranked per cluster, region and zone (default 2)', candidateCount)
    .requiredOption('--out <file>', 'where to write the plan')
    .option('--json', 'print a JSON summary')
    .action((flags: PlaceFlags) => {
      const { fleet, workload } = loadInputs(flags);
      const started = process.hrtime.bigint();
      const { plan } = placeWorkload(fleet, workload, {
        seed: flags.seed,
        ...(flags.strategy === undefined ? {} : { strategy: flags.strategy }),
        ...(flags.candidates === undefined ? {} : { candidates: flags.candidates }),
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      writeFileSync(flags.out, `${JSON.stringify(plan)}\n`);
      const figures = planFigures(fleet, workload, plan);
      const summary = { plan: flags.out, seconds: Math.round(seconds * 1000) / 1000, ...figures };
      if (flags.json) return printJson(summary);
      print(
        `placed ${count(figures.placed)} of ${count(figures.instances)} instances on ${count(figures.hosts_used)} of ${count(figures.hosts)} hosts in ${seconds.toFixed(2)}s (${count(Math.round(figures.instances / Math.max(seconds, 1e-9)))}/s)`,
      );
      print(`packing ratio ${figures.packing_ratio.toFixed(4)}, zone skew ${figures.zone_skew}, worst service zone skew ${figures.service_zone_skew}`);
      if (plan.unplaceable.length > 0) {
        print(`${count(plan.unplaceable.length)} unplaceable, e.g.:`);
        for (const u of plan.unplaceable.slice(0, 3)) print(`  ${u.service}/${u.replica}: ${u.reasons.map((r) => r.message).join('; ')}`);
      }
      print(`wrote ${flags.out}`);
    });

  sim
    .command('check')
    .description('verify a plan against its fleet and workload with independent arithmetic; exit 1 on a violation')
    .requiredOption('--fleet <file>', 'fleet.json')
    .requiredOption('--workload <file>', 'workload.json')
    .requiredOption('--plan <file>', 'plan.json')
    .option('--json', 'print the report as JSON')
    .action((flags: CheckFlags) => {
      const { fleet, workload } = loadInputs(flags);
      const plan = readPlanFile(readJson(flags.plan, PLAN), basename(flags.plan));
      const report = checkPlan(fleet, workload, plan);
      if (report.violationCount > 0) process.exitCode = 1;
      if (flags.json) return printJson({ ok: report.violationCount === 0, ...report });
      if (report.violationCount === 0) {
        print(`${flags.plan}: ok — ${count(report.placements)} placements, ${count(report.unplaceable)} unplaceable with reasons, 0 violations`);
        return;
      }
      print(`${flags.plan}: ${count(report.violationCount)} violations`);
      for (const v of report.violations) print(`  ${v.kind}: ${v.message}`);
      if (report.violationCount > report.violations.length) print(`  … and ${count(report.violationCount - report.violations.length)} more`);
    });

  sim
    .command('explain')
    .description('explain where one instance of the workload would go, on the fleet as it stands or as a plan left it')
    .requiredOption('--fleet <file>', 'fleet.json')
    .requiredOption('--workload <file>', 'workload.json')
    .option('--plan <file>', "place the plan's other instances first")
    .requiredOption('--instance <service/replica>', 'the instance, e.g. svc-0042/0')
    .option('--strategy <strategy>', "binpack or spread (default: each cluster's own)", strategy)
    .option('--seed <seed>', 'seed of the host order', seed, 1)
    .option('--json', 'print the explanation as JSON')
    .action((flags: ExplainFlags) => {
      const { fleet, workload } = loadInputs(flags);
      const requests = requestsFromWorkload(workload);
      const request = requests.find((r) => instanceName(r) === flags.instance);
      if (request === undefined) {
        throw new NotFoundError(`--instance ${flags.instance}: no such instance in ${flags.workload}; write <service>/<replica>, e.g. ${workload.services[0]?.name ?? 'web'}/0`);
      }
      let model = fleetFromFile(fleet);
      if (flags.plan !== undefined) model = applyPlan(model, requests, readPlanFile(readJson(flags.plan, PLAN), basename(flags.plan)), flags.instance);
      const explanation = explain(model, request, {
        seed: flags.seed,
        ...(flags.strategy === undefined ? {} : { strategy: flags.strategy }),
      });
      if (flags.json) return printJson(explanation);
      print(formatExplanation(explanation));
    });
};
