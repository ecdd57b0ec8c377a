// Exact parsing and printing of the quantities a spec is written in: sizes in bytes,
// CPU in millicores, durations in milliseconds. Parsing is decimal and exact (BigInt), so
// `1.5G` is 1,500,000,000 bytes and never 1,499,999,999.
import { err, ok, type Result } from './result.js';

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
};
const DECIMAL: Record<string, bigint> = {
  k: 10n ** 3n,
  K: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
};
const DURATION_UNITS: Record<string, bigint> = {
  ms: 1n,
  s: 1000n,
  m: 60_000n,
  h: 3_600_000n,
  d: 86_400_000n,
};

/** "1.25" -> 125n / 100n, kept as a fraction so scaling stays exact. */
function decimal(text: string): { num: bigint; den: bigint } {
  const [whole = '0', frac = ''] = text.split('.');
  return { num: BigInt(whole + frac), den: 10n ** BigInt(frac.length) };
}

function exact(num: bigint, den: bigint): number | undefined {
  if (num % den !== 0n) return undefined;
  const value = num / den;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** Parses `512Mi`, `1Gi`, `1.5G`, `100k` or plain bytes (`1048576`) to a byte count. */
export function parseSize(input: string | number): Result<number> {
  const text = String(input).trim();
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$/.exec(text);
  if (!m) return err(sizeHint(text));
  const { num, den } = decimal(m[1]!);
  const unit = m[2] ? (BINARY[m[2]] ?? DECIMAL[m[2]]!) : 1n;
  const bytes = exact(num * unit, den);
  if (bytes === undefined) return err(`"${text}" is not a whole number of bytes; write e.g. 512Mi or 1Gi`);
  return ok(bytes);
}

function sizeHint(text: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtTpP])i?[bB]$/.exec(text);
  if (m) {
    const unit = m[2]!.toUpperCase();
    const decimalSuffix = unit === 'K' ? 'k' : unit;
    return `"${text}" is not a size; write ${m[1]}${unit}i (binary) or ${m[1]}${decimalSuffix} (decimal)`;
  }
  return `"${text}" is not a size; write bytes or a number with a suffix, e.g. 512Mi, 1Gi or 1.5G`;
}

/** Prints bytes exactly (`parseSize(formatSize(n)) === n`): the largest binary unit that divides it, else decimal, else bytes. */
export function formatSize(bytes: number): string {
  const b = BigInt(bytes);
  if (b === 0n) return '0';
  for (const [suffix, unit] of Object.entries(BINARY).reverse()) if (b % unit === 0n) return `${b / unit}${suffix}`;
  for (const suffix of ['P', 'T', 'G', 'M', 'k']) {
    const unit = DECIMAL[suffix]!;
    if (b % unit === 0n) return `${b / unit}${suffix}`;
  }
  return String(b);
}

/** Prints bytes for people, rounded (`1.5Gi`); not for round trips. */
export function humanSize(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${units[i]}`;
}

/** Parses CPU as cores (`0.5`, `2`) or millicores (`500m`) to millicores. */
export function parseCpu(input: string | number): Result<number> {
  const text = String(input).trim();
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(text);
  if (!m) return err(`"${text}" is not a CPU amount; write cores (0.5, 2) or millicores (500m)`);
  const { num, den } = decimal(m[1]!);
  const milli = exact(m[2] ? num : num * 1000n, den);
  if (milli === undefined) return err(`"${text}" is finer than a millicore; write a whole number of millicores, e.g. 250m`);
  return ok(milli);
}

/** Prints millicores exactly: whole cores as `2`, the rest as `500m`. */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/**
 * Prints CPU amounts that a message compares in one unit, each exactly: cores when all are whole
 * cores (`2` and `4`), else millicores (`1500m` and `1000m`), never `1500m` beside `1`.
 */
export function formatCpus(...millicores: readonly number[]): string[] {
  return millicores.every((m) => m % 1000 === 0) ? millicores.map(formatCpu) : millicores.map((m) => `${m}m`);
}

/**
 * Parses `30s`, `5m`, `1h30m`, `250ms`, `1.5s`, `2d` to milliseconds. Compound units go largest
 * first, each once, as `formatDuration` prints them: `30m1h` and `1m1m` are more likely slips
 * than meant, and one way to write a duration keeps specs easy to compare.
 */
export function parseDuration(input: string | number): Result<number> {
  const text = String(input).trim();
  const hint = `"${text}" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m`;
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text)) return err(hint);
  let num = 0n;
  let den = 1n;
  const seen = new Set<string>();
  let previous = Infinity;
  let repeated: string | undefined;
  let unordered = false;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    const d = decimal(part[1]!);
    const unit = DURATION_UNITS[part[2]!]!;
    if (seen.has(part[2]!)) repeated ??= part[2]!;
    if (Number(unit) > previous) unordered = true;
    seen.add(part[2]!);
    previous = Number(unit);
    // a/b + c/d = (ad + cb) / bd, kept exact until the end
    num = num * d.den + d.num * unit * den;
    den = den * d.den;
  }
  const ms = exact(num, den);
  if (ms === undefined) return err(`"${text}" is finer than a millisecond; write whole milliseconds, e.g. 1500ms`);
  if (repeated !== undefined) return err(`"${text}" gives ${repeated} more than once; write each unit once, largest first: ${formatDuration(ms)}`);
  if (unordered) return err(`"${text}" has its units out of order; write them largest first: ${formatDuration(ms)}`);
  return ok(ms);
}

/** Prints milliseconds exactly as `1h30m`, `45s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = BigInt(ms);
  let out = '';
  for (const [suffix, unit] of [
    ['d', DURATION_UNITS.d!],
    ['h', DURATION_UNITS.h!],
    ['m', DURATION_UNITS.m!],
    ['s', DURATION_UNITS.s!],
    ['ms', 1n],
  ] as const) {
    if (rest >= unit) {
      out += `${rest / unit}${suffix}`;
      rest %= unit;
    }
  }
  return out;
}
