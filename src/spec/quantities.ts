// Sizes, CPU and durations as written in berth.yaml (`256Mi`, `0.5`, `30s`), parsed by the exact
// parsers of core so the spec holds bytes, millicores and milliseconds and the user sees their
// message.
import { z } from 'zod';
import { formatDuration, formatSize, parseCpu, parseDuration, parseSize } from '../core/quantity.js';
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

/**
 * The longest timeout berth arms as one timer: Node turns a delay above 2^31 - 1 ms (24.8 days)
 * into 1 ms, so a longer one would fire at once instead of (nearly) never.
 */
export const MAX_TIMER_MS = 24 * 24 * 3_600_000;

/**
 * A duration in milliseconds; `positive` rejects zero where a zero would spin or never wait;
 * `max` bounds a duration that becomes a timer (see MAX_TIMER_MS).
 */
export function duration({ positive, max }: { positive: boolean; max?: number }) {
  return quantity(
    parseDuration,
    (ms, text) => {
      if (positive && ms === 0) return `"${text}" is zero; write a positive duration, e.g. 10s`;
      if (max !== undefined && ms > max) return `"${text}" is longer than ${formatDuration(max)}, the longest berth can wait; write at most ${formatDuration(max)}`;
      return undefined;
    },
    'a duration; write a number with a unit (ms, s, m, h, d): 250ms, 30s, 5m, 1h30m',
  );
}
