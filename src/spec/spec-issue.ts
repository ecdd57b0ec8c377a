// A problem found in a spec: where it is (a path into the document, later a line and column)
// and what to do about it.
import type { z } from 'zod';

export type SpecPath = readonly (string | number)[];

export interface SpecIssue {
  readonly path: SpecPath;
  /** "problem; fix" */
  readonly message: string;
  /** the problem is the key itself (an unknown field, a bad name), not its value */
  readonly atKey?: boolean;
  /** 1-based, filled in when the spec came from text */
  readonly line?: number;
  readonly col?: number;
}

/** `services.web.ports[1]` */
export function formatPath(path: SpecPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

const typeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** An issue saying the whole value has the wrong type for this branch (a string where a map goes). */
function rejectsType(issue: z.core.$ZodIssue, input: unknown): boolean {
  if (issue.path.length > 0) return false;
  const inputType = typeOf(input);
  if (issue.code === 'invalid_type') return issue.expected !== inputType && !(issue.expected === 'int' && inputType === 'number');
  if (issue.code === 'invalid_value') return !issue.values.some((v) => typeOf(v) === inputType);
  return false;
}

/**
 * From a union's failed branches, the one the user meant: the first that accepts the type of
 * the value (so `affinity: { header: 1 }` reports the map branch, not the list of words).
 */
function chosenBranch(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  return issue.errors.find((branch) => !branch.some((i) => rejectsType(i, issue.input)));
}

function toPath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/** Flattens zod issues into spec issues: one per unknown key, unions resolved to one branch. */
export function specIssues(issues: readonly z.core.$ZodIssue[], prefix: SpecPath = []): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...toPath(issue.path)];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const lines = issue.message.split('\n');
        issue.keys.forEach((key, i) =>
          out.push({ path: [...path, key], message: lines.length === issue.keys.length ? lines[i]! : 'unknown field; remove it', atKey: true }),
        );
        break;
      }
      case 'invalid_key':
        for (const inner of specIssues(issue.issues, path)) out.push({ ...inner, atKey: true });
        break;
      case 'invalid_union': {
        const branch = chosenBranch(issue);
        if (branch !== undefined) out.push(...specIssues(branch, path));
        else out.push({ path, message: issue.message });
        break;
      }
      case 'custom':
        out.push({ path, message: issue.message, ...(issue.params?.atKey === true ? { atKey: true } : {}) });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}
