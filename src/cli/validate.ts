// `berth validate`: checks a berth.yaml offline and prints every problem at once, each as
// `file:line:col path: problem; fix`, or a one-line summary per service when it is valid.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatCpu, formatDuration, formatSize } from '../core/quantity.js';
import { routeMode } from '../edge/route-table.js';
import type { BerthFile } from '../spec/berth-file.js';
import { parseBerthFile } from '../spec/parse.js';
import type { Affinity, RouteQueue } from '../spec/route.js';
import type { ServiceSpec } from '../spec/service.js';
import { formatPath, type SpecIssue } from '../spec/spec-issue.js';
import type { CommandModule } from './main.js';

interface Options {
  file: string;
  json?: boolean;
}

/** `file:line:col path: message`, the form editors and terminals turn into links. */
export function formatIssue(file: string, issue: SpecIssue): string {
  const where = `${file}:${issue.line ?? 1}:${issue.col ?? 1}`;
  return issue.path.length === 0 ? `${where} ${issue.message}` : `${where} ${formatPath(issue.path)}: ${issue.message}`;
}

function scaleText(service: ServiceSpec): string {
  if (service.scale === undefined) return `replicas ${service.replicas ?? 1}`;
  const { min, max, target } = service.scale;
  const aim = target.type === 'metric' ? `${target.metric} ${target.value}` : target.type === 'cpu' ? `cpu ${target.value}%` : `${target.type} ${target.value}`;
  return `scale ${min}..${max} on ${aim}`;
}

function affinityText(affinity: Affinity): string {
  if (affinity.type === 'cookie') return `affinity cookie ${affinity.cookie}`;
  if (affinity.type === 'header') return `affinity header ${affinity.header}`;
  return 'affinity ip';
}

function limitsText(limits: { readonly soft?: number; readonly hard?: number }, counted: string): string | undefined {
  const bounds = [limits.soft === undefined ? '' : `soft ${limits.soft}`, limits.hard === undefined ? '' : `hard ${limits.hard}`].filter(Boolean);
  return bounds.length === 0 ? undefined : `${bounds.join(' ')} ${counted}`;
}

/** The wait behind the hard limit, as written (the edge fills a missing field with DEFAULT_QUEUE). */
function queueText(queue: RouteQueue | undefined): string | undefined {
  if (queue === undefined) return undefined;
  const fields = [queue.limit === undefined ? '' : `limit ${queue.limit}`, queue.timeout === undefined ? '' : `timeout ${formatDuration(queue.timeout)}`];
  return `queue ${fields.filter(Boolean).join(' ')}`;
}

/** What both kinds of route may set beyond the defaults, in the order the summary shows them. */
function routeSettings(
  route: { readonly balancer?: string; readonly affinity?: Affinity; readonly queue?: RouteQueue },
  limits: { readonly soft?: number; readonly hard?: number } | undefined,
  counted: string,
): (string | undefined)[] {
  return [route.balancer, route.affinity && affinityText(route.affinity), limits && limitsText(limits, counted), queueText(route.queue)];
}

/**
 * The route and what the edge does with it beyond the defaults. The HTTP mode is always shown,
 * as the edge picks it when berth.yaml leaves it out (docs/edge.md, Routing modes), since it
 * decides how load spreads.
 */
function routeText(service: ServiceSpec): string {
  const { http, tcp } = service;
  let parts: (string | undefined)[];
  if (http !== undefined) {
    parts = [`http ${http.host}${http.path} ${routeMode(http)}`, ...routeSettings(http, http.concurrency, http.concurrency.type)];
  } else if (tcp !== undefined) {
    parts = [
      `tcp :${tcp.port}`,
      ...routeSettings(tcp, tcp.concurrency, 'connections'),
      tcp.idleTimeout === undefined ? undefined : `idle ${formatDuration(tcp.idleTimeout)}`,
      tcp.proxyProtocol === undefined ? undefined : `proxy protocol ${tcp.proxyProtocol}`,
    ];
  } else parts = ['no route'];
  return parts.filter((part) => part !== undefined).join(', ');
}

/** One line per service: name, count or bounds, memory/cpu, route. */
export function summary(file: BerthFile): string[] {
  const rows = Object.entries(file.services).map(([name, s]) => [
    name,
    scaleText(s),
    `memory ${formatSize(s.resources.memory)} cpu ${formatCpu(s.resources.cpu)}`,
    routeText(s) + (s.ports.length > 0 ? ` (host ports ${s.ports.join(', ')})` : ''),
  ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  '));
}

async function readSpec(file: string): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  try {
    return { ok: true, text: await readFile(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, message: `${file}: no such file; pass -f <path> or create ${file} (see docs/berth-yaml.md)` };
    if (code === 'EISDIR') return { ok: false, message: `${file}: is a directory; pass -f <path> to the berth.yaml inside it` };
    if (code === 'EACCES') return { ok: false, message: `${file}: permission denied; make the file readable` };
    throw error;
  }
}

async function validate(options: Options): Promise<void> {
  const { file, json = false } = options;
  const read = await readSpec(file);
  const parsed = read.ok ? parseBerthFile(read.text) : undefined;
  if (parsed?.ok) {
    process.stdout.write(json ? `${JSON.stringify(parsed.value, null, 2)}\n` : `${summary(parsed.value).join('\n')}\n`);
    return;
  }
  process.exitCode = 1;
  const issues: SpecIssue[] = parsed === undefined ? [] : parsed.error;
  if (json) {
    const errors = read.ok
      ? issues.map((i) => ({ file, line: i.line ?? 1, col: i.col ?? 1, path: formatPath(i.path), message: i.message }))
      : [{ file, message: read.message }];
    process.stdout.write(`${JSON.stringify({ errors }, null, 2)}\n`);
    return;
  }
  if (!read.ok) {
    process.stderr.write(`berth: ${read.message}\n`);
    return;
  }
  const lines = issues.map((i) => formatIssue(file, i));
  process.stderr.write(`${lines.join('\n')}\n${issues.length} ${issues.length === 1 ? 'error' : 'errors'} in ${file}\n`);
}

export const validateCommand: CommandModule = (program: Command) => {
  program
    .command('validate')
    .description('check a berth.yaml and print every problem with its line and column')
    .option('-f, --file <path>', 'the berth file', 'berth.yaml')
    .option('--json', 'print the parsed spec, or the errors, as JSON')
    .action(validate);
};
