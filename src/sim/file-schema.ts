// Reading the simulator's JSON files: a zod schema per file, and one error that names the
// file, the field, the value and the fix.
import { z } from 'zod';
import { parseCpu, parseSize } from '../core/quantity.js';
import { ValidationError } from '../core/errors.js';
import { didYouMean } from '../spec/did-you-mean.js';

/** A size as a string (`16Gi`) or a byte count, checked by the exact parser. */
export const sizeField = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  const parsed = parseSize(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

/** CPU as cores (`0.5`, 2) or millicores (`250m`). */
export const cpuField = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  const parsed = parseCpu(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

export const portField = z.number().int().min(1).max(65535);

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out || '(top level)';
}

// An example per field, so "missing" and "wrong type" come with something to paste.
const EXAMPLES: Record<string, string> = {
  hosts: '"hosts": [{ "id": "h1", "region": "eu", "memory": "64Gi", "cores": 16 }]',
  services: '"services": [{ "name": "web", "replicas": 2, "memory": "512Mi", "cpu": "250m" }]',
  placements: '"placements": [{ "service": "web", "replica": 0, "host": "h1" }]',
  unplaceable: '"unplaceable": [{ "service": "web", "replica": 1, "reasons": [{ "checker": "memory", "message": "…" }] }]',
  reasons: '"reasons": [{ "checker": "memory", "message": "…" }]',
  clusters: '"clusters": [{ "name": "default", "cpu_overcommit_ratio": 4 }]',
  volumes: '"volumes": [{ "name": "web-data-0", "host": "h1" }]',
  instances: '"instances": [{ "id": "i1", "service": "web", "host": "h1", "memory": "512Mi", "cpu": "250m" }]',
  labels: '"labels": { "disk": "ssd" }',
  ports: '"ports": [9100]',
  id: '"id": "h1"',
  name: '"name": "web"',
  region: '"region": "eu"',
  memory: '"memory": "64Gi"',
  cpu: '"cpu": "250m"',
  cores: '"cores": 16',
  replicas: '"replicas": 2',
  service: '"service": "web"',
  replica: '"replica": 0',
  host: '"host": "h1"',
  checker: '"checker": "memory"',
  message: '"message": "…"',
};

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};

/** The value as the file has it, for quoting back. */
function quoteJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** Messages for zod's built-in checks in the berth voice, "problem; fix"; checks with their own message keep it. */
function simIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const key = issue.path?.at(-1);
  const field = typeof key === 'string' ? key : undefined;
  const example = field === undefined ? undefined : EXAMPLES[field];
  const write = (fallback: string): string => (example === undefined ? `write ${fallback}` : `write e.g. ${example}`);
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value')) {
    return `missing; add ${example ?? `"${field ?? 'the field'}" (see docs/sim.md)`}`;
  }
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.expected === 'int' && typeof issue.input === 'number') return `${issue.input} is not a whole number; write e.g. ${Math.max(0, Math.round(issue.input))}`;
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return `expected ${expected}, got ${quoteJson(issue.input)}; ${write(expected)}`;
    }
    case 'invalid_union':
      return `expected a string or a number, got ${quoteJson(issue.input)}; ${write('a string or a number')}`;
    case 'invalid_value': {
      const values = issue.values.map(String);
      const guess = typeof issue.input === 'string' ? didYouMean(issue.input, values) : undefined;
      return `${quoteJson(issue.input)} is not one of ${values.join(', ')}; ${guess === undefined ? 'write one of them' : `did you mean ${guess}?`}`;
    }
    case 'too_small': {
      if (issue.origin === 'string') return `is empty; ${write('a value')}`;
      const bound = issue.inclusive === false ? `above ${Number(issue.minimum)}` : `at least ${Number(issue.minimum)}`;
      return `${quoteJson(issue.input)} is too small; write a number ${bound}`;
    }
    case 'too_big': {
      const bound = issue.inclusive === false ? `below ${Number(issue.maximum)}` : `at most ${Number(issue.maximum)}`;
      return `${quoteJson(issue.input)} is too big; write a number ${bound}`;
    }
    default:
      return undefined;
  }
}

/** Parses `json` with `schema`, or throws a ValidationError listing up to five problems as `file field: message`. */
export function readFile<S extends z.ZodType>(schema: S, json: unknown, file: string): z.output<S> {
  const parsed = schema.safeParse(json, { error: simIssueMessage });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const lines = issues.slice(0, 5).map((issue) => `${file} ${fieldPath(issue.path)}: ${issue.message}`);
  if (issues.length > 5) lines.push(`… and ${issues.length - 5} more`);
  throw new ValidationError(lines.join('\n'), { issues: issues.slice(0, 20) });
}

/** The value of a size field, already validated by `sizeField`. */
export const bytes = (value: string | number): number => {
  const parsed = parseSize(value);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

/** The value of a CPU field in millicores, already validated by `cpuField`. */
export const millicores = (value: string | number): number => {
  const parsed = parseCpu(value);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
