// Sizes, CPU and durations as written in berth.yaml (`256Mi`, `0.5`, `30s`), parsed by the exact
// parsers of core so the spec holds bytes, millicores and milliseconds and the user sees their
// message.
import { z } from 'zod';
import { formatSize, parseCpu, parseDuration, parseSize } from '../core/quantity.js';
import type { Result } from '../core/result.js';
import { quote } from './issue-message.js';

type Check = (value: number, text: string) => string | undefined;

function quantity(parse: (input: string | number) => Result<number>, check: Check, description: string) {
  return z
    .union([z.string(), z.number()], { error: (issue) => `${quote(issue.input)} is not ${description}` })
    .transform((input, ctx) => {
      const parsed = parse(input);
      // the parser's own message, so the user reads the same words wherever berth parses one
      const problem = parsed.ok ? check(parsed.value, String(input).trim()) : parsed.error;
      if (problem === undefined && parsed.ok) return parsed.value;
      ctx.issues.push({ code: 'custom', message: problem ?? '', input });
      return z.NEVER;
    })
    .meta({ description });
}

/** A size in bytes, at least `min` bytes (default 1: a zero size is always a mistake). */
export function size(min = 1) {
  return quantity(
    parseSize,
    (bytes, text) => {
      if (bytes === 0) return `"${text}" is zero; write a positive size, e.g. ${formatSize(Math.max(min, 256 * 2 ** 20))}`;
      if (bytes < min) return `"${text}" is under the minimum of ${formatSize(min)}; write at least ${formatSize(min)}`;
      return undefined;
    },
    'a size; write bytes or a number with a suffix: 512Mi, 1Gi (binary) or 1.5G (decimal)',
  );
}

/** CPU in millicores, above zero. */
export function cpu() {
  return quantity(
    parseCpu,
    (millicores, text) => (millicores === 0 ? `"${text}" is zero CPU; write cores (0.25, 2) or millicores (250m)` : undefined),
    'a CPU amount; write cores (0.25, 2) or millicores (250m)',
  );
}

/** A duration in milliseconds; `positive` rejects zero where a zero would spin or never wait. */
export function duration({ positive }: { positive: boolean }) {
  return quantity(
    parseDuration,
    (ms, text) => (positive && ms === 0 ? `"${text}" is zero; write a positive duration, e.g. 10s` : undefined),
    'a duration; write a number with a unit (ms, s, m, h, d): 250ms, 30s, 5m, 1h30m',
  );
}
