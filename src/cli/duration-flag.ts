// A duration given on the command line (`--deadline 10m`, `--request-timeout 30s`), read as
// berth.yaml reads one; a bad one names the flag and the fix.
import { formatDuration, parseDuration } from '../core/quantity.js';
import { ValidationError } from '../core/errors.js';
import { MAX_TIMER_MS } from '../spec/quantities.js';

export function durationFlag(flag: string, value: string, bounds: { positive?: boolean; max?: number } = {}): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new ValidationError(`${flag}: ${parsed.error}`);
  if (bounds.positive === true && parsed.value <= 0) throw new ValidationError(`${flag} ${value}: must be above 0; write e.g. 30s`);
  if (bounds.max !== undefined && parsed.value > bounds.max) throw new ValidationError(`${flag} ${value}: at most ${formatDuration(bounds.max)}; write a shorter duration`);
  return parsed.value;
}

/** A duration that becomes a timer: above 0, at most what Node's timers hold. */
export const timerFlag = (flag: string, value: string): number => durationFlag(flag, value, { positive: true, max: MAX_TIMER_MS });
