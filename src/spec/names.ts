// The names berth.yaml uses as identifiers: services and volumes become DNS labels (routes,
// stream ids, host paths), env and secret names become environment variables.
import { z } from 'zod';
import { quote } from './issue-message.js';

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function dnsLabelProblem(name: string, what: string): string {
  const suggestion = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  const fix = DNS_LABEL.test(suggestion) ? `write e.g. "${suggestion}"` : 'write e.g. "web"';
  return `"${name}" is not a valid ${what} name (lower-case letters, digits and "-", starting with a letter, at most 63); ${fix}`;
}

/** A DNS label: `web`, `api-v2`. */
export function dnsLabel(what: string) {
  return z.string().check((ctx) => {
    if (!DNS_LABEL.test(ctx.value)) ctx.issues.push({ code: 'custom', message: dnsLabelProblem(ctx.value, what), input: ctx.value });
  });
}

/** An environment variable name; PORT and BERTH_* are set by berth for every instance. */
export const envName = z.string().check((ctx) => {
  const name = ctx.value;
  if (!ENV_NAME.test(name)) {
    const fixed = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1');
    ctx.issues.push({
      code: 'custom',
      message: `"${name}" is not a valid variable name (letters, digits and "_", not starting with a digit); write e.g. "${fixed}"`,
      input: name,
    });
  } else if (name === 'PORT' || name.startsWith('BERTH_')) {
    ctx.issues.push({ code: 'custom', message: `"${name}" is set by berth for every instance; choose another name`, input: name });
  }
});

/** A scalar written unquoted in YAML (`DEBUG: true`, `WORKERS: 4`) still means its text. */
export const scalarText = z
  .union([z.string(), z.number(), z.boolean()], {
    error: (issue) =>
      issue.input === null || issue.input === undefined
        ? 'has no value; write one, or "" for an empty one'
        : `${quote(issue.input)} is not a single value; write text, a number or true/false`,
  })
  .transform(String);
