// Rules between fields (a port listed twice, replicas with scale, two services on one port,
// a probe timeout over its interval). zod runs a refinement only while nothing below it failed
// with an aborting issue (`replicas: 1.5` is one), so rules left to zod alone would hide behind
// any broken field. Hence each rule is a check over fields that may be missing: the schema runs
// it, marked, on its parsed value, so a direct parse enforces it; when the parse fails, the
// check functions drop the marked issues and run every rule again over the input as written,
// each field read on its own (`readFields`), so every error shows at once, and once.
import type { z } from 'zod';
import type { SpecIssue, SpecPath } from './spec-issue.js';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Adds the issues of a rule to a refinement, marked so `isRuleIssue` can tell them apart. */
export function reportRules(ctx: z.RefinementCtx, issues: readonly SpecIssue[]): void {
  for (const { path, message, atKey } of issues) {
    ctx.addIssue({ code: 'custom', path: [...path], message, params: { rule: true, ...(atKey === true ? { atKey } : {}) } });
  }
}

export const isRuleIssue = (issue: z.core.$ZodIssue): boolean => issue.code === 'custom' && issue.params?.rule === true;

/** Issues of a nested object, with paths from its parent. */
export const under = (prefix: SpecPath, issues: readonly SpecIssue[]): SpecIssue[] =>
  issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }));

type Fields<Shape extends Readonly<Record<string, z.ZodType>>> = { [K in keyof Shape]?: z.output<Shape[K]> };

/**
 * The fields of an object as written, each parsed on its own by its schema (defaults filled
 * in); a field that does not parse is left out, since it reports its own error.
 */
export function readFields<const Shape extends Readonly<Record<string, z.ZodType>>>(shape: Shape, raw: Record<string, unknown>): Fields<Shape> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const parsed = schema.safeParse(raw[key]);
    if (parsed.success && parsed.data !== undefined) out[key] = parsed.data;
  }
  return out as Fields<Shape>;
}
