// Request bodies and query strings through the zod schemas of ./protocol, failing as one 400
// that names each field and its fix, in the words berth.yaml errors use.
import type { Context } from 'hono';
import type { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { issueMessage } from '../spec/issue-message.js';
import { formatPath, specIssues } from '../spec/spec-issue.js';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(input, { error: issueMessage, reportInput: true });
  if (result.success) return result.data;
  const issues = specIssues(result.error.issues).map((i) => ({ field: formatPath([where, ...i.path]), message: i.message }));
  throw new ValidationError(issues.map((i) => `${i.field}: ${i.message}`).join('; '), { issues });
}

export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let body: unknown = undefined;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new ValidationError(`body: not valid JSON (${(error as Error).message}); send a JSON document with content-type application/json`);
    }
  }
  return parseInput(schema, body, 'body');
}

export const parseQuery = <S extends z.ZodType>(c: Context, schema: S): z.output<S> => parseInput(schema, c.req.query(), 'query');
