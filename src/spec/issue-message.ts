// Messages for zod's built-in checks in the berth voice, "problem; fix". Schemas that know a
// better fix set their own message; this map speaks for the rest.
import type { z } from 'zod';
import { didYouMean } from './did-you-mean.js';

/** The value as the user wrote it, for quoting back. */
export function quote(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map of fields',
  array: 'a list',
  record: 'a map',
};

// An example for a required field, by its key, so "missing" comes with something to paste.
const REQUIRED_EXAMPLES: Record<string, string> = {
  run: 'run: node server.js',
  services: 'services: { web: { run: node server.js } }',
  host: 'host: app.example.com',
  max: 'max: 4',
  target: 'target: { concurrency: 20 }',
  type: 'type: http (or tcp, exec)',
  port: 'port: 5432',
  name: 'name: data',
  mount: 'mount: /data',
};

type RawIssue = z.core.$ZodRawIssue;

export function issueMessage(issue: RawIssue): string | undefined {
  const key = issue.path?.at(-1);
  const field = typeof key === 'string' ? key : undefined;
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    const example = field === undefined ? undefined : REQUIRED_EXAMPLES[field];
    return `missing; add ${example ?? `${field ?? 'the field'}`}`;
  }
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (issue.input === null && (issue.expected === 'object' || issue.expected === 'record')) {
        // `web:` with nothing under it
        const service = issue.path?.length === 2 && issue.path[0] === 'services';
        return service ? 'has no fields; add them below it, e.g. run: node server.js' : `has no fields; add them below it, or remove ${field ?? 'it'}`;
      }
      if (issue.expected === 'int' && typeof issue.input === 'number') {
        return `${issue.input} is not a whole number; write e.g. ${Math.max(1, Math.round(issue.input))}`;
      }
      return `expected ${expected}, got ${quote(issue.input)}; write ${expected}`;
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const guess = typeof issue.input === 'string' ? didYouMean(issue.input, values) : undefined;
      if (values.length === 1) return `${quote(issue.input)} is not supported; write ${values[0]} or leave it out`;
      return guess === undefined
        ? `${quote(issue.input)} is not one of ${values.join(', ')}; write one of them`
        : `${quote(issue.input)} is not one of ${values.join(', ')}; did you mean ${guess}?`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return 'is empty; write a value or leave the field out';
      if (issue.origin === 'array') return `is empty; list at least ${min} or leave the field out`;
      const bound = issue.inclusive === false ? `above ${min}` : `at least ${min}`;
      return `${quote(issue.input)} is too small; write a number ${bound}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      const bound = issue.inclusive === false ? `below ${max}` : `at most ${max}`;
      return `${quote(issue.input)} is too big; write a number ${bound}`;
    }
    case 'invalid_format':
      return `${quote(issue.input)} is not a valid ${issue.format}; see docs/berth-yaml.md`;
    case 'invalid_union': {
      const expected = issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => (i as { expected: string }).expected));
      const names = [...new Set(expected.map((e) => TYPE_NAMES[e] ?? e))];
      if (issue.input === null || issue.input === undefined) return `has no value; write ${names.join(' or ') || 'a value'}`;
      if (names.length > 0) return `expected ${names.join(' or ')}, got ${quote(issue.input)}; write ${names.join(' or ')}`;
      return `${quote(issue.input)} does not fit any accepted form; see docs/berth-yaml.md`;
    }
    default:
      return undefined;
  }
}
