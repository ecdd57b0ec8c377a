// Reading the simulator's JSON files: a zod schema per file, and one error that names the
// file, the field, the value and the fix.
import { z } from 'zod';
import { parseCpu, parseSize } from '../core/quantity.js';
import { ValidationError } from '../core/errors.js';

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

/** Parses `json` with `schema`, or throws a ValidationError listing up to five problems as `file field: message`. */
export function readFile<S extends z.ZodType>(schema: S, json: unknown, file: string): z.output<S> {
  const parsed = schema.safeParse(json);
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
