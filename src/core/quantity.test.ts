import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCpu, formatCpus, formatDuration, formatSize, parseCpu, parseDuration, parseSize } from './quantity.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('sizes', () => {
  it('parses binary, decimal and plain bytes exactly', () => {
    expect(value(parseSize('512Mi'))).toBe(512 * 2 ** 20);
    expect(value(parseSize('1Gi'))).toBe(2 ** 30);
    expect(value(parseSize('1.5G'))).toBe(1_500_000_000);
    expect(value(parseSize('0.25Gi'))).toBe(2 ** 28);
    expect(value(parseSize('1048576'))).toBe(1048576);
    expect(value(parseSize(4096))).toBe(4096);
  });
  it('explains what is wrong and how to write it', () => {
    const r = parseSize('256MB');
    expect(r).toEqual({ ok: false, error: '"256MB" is not a size; write 256Mi (binary) or 256M (decimal)' });
    expect(parseSize('lots').ok).toBe(false);
    expect(parseSize('1.5').ok).toBe(false); // not a whole byte
    expect(parseSize('-1Gi').ok).toBe(false);
  });
  it('prints exactly, in the largest unit that divides', () => {
    expect(formatSize(2 ** 30)).toBe('1Gi');
    expect(formatSize(1.5 * 2 ** 30)).toBe('1536Mi');
    expect(formatSize(1_500_000_000)).toBe('1500M');
    expect(formatSize(1001)).toBe('1001');
  });
  it('round-trips every byte count', () => {
    fc.assert(fc.property(fc.nat({ max: 2 ** 50 }), (n) => value(parseSize(formatSize(n))) === n));
  });
});

describe('cpu', () => {
  it('parses cores and millicores', () => {
    expect(value(parseCpu('0.5'))).toBe(500);
    expect(value(parseCpu('500m'))).toBe(500);
    expect(value(parseCpu('2'))).toBe(2000);
    expect(value(parseCpu(1.25))).toBe(1250);
    expect(parseCpu('0.0001').ok).toBe(false);
    expect(parseCpu('two').ok).toBe(false);
  });
  it('round-trips', () => {
    fc.assert(fc.property(fc.nat({ max: 10_000_000 }), (n) => value(parseCpu(formatCpu(n))) === n));
  });
  it('prints amounts to compare in one unit', () => {
    expect(formatCpus(1500, 1000)).toEqual(['1500m', '1000m']);
    expect(formatCpus(2000, 4000)).toEqual(['2', '4']);
    fc.assert(fc.property(fc.array(fc.nat({ max: 10_000_000 })), (ns) => formatCpus(...ns).every((text, i) => value(parseCpu(text)) === ns[i])));
  });
});

describe('durations', () => {
  it('parses single and compound units', () => {
    expect(value(parseDuration('30s'))).toBe(30_000);
    expect(value(parseDuration('5m'))).toBe(300_000);
    expect(value(parseDuration('1h30m'))).toBe(5_400_000);
    expect(value(parseDuration('250ms'))).toBe(250);
    expect(value(parseDuration('1.5s'))).toBe(1500);
    expect(value(parseDuration('1d'))).toBe(86_400_000);
  });
  it('rejects what has no unit or is not a duration', () => {
    expect(parseDuration('30')).toEqual({
      ok: false,
      error: '"30" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m',
    });
    expect(parseDuration('soon').ok).toBe(false);
    expect(parseDuration('0.1ms').ok).toBe(false);
  });
  it('takes compound units largest first, each once, and shows that order as the fix', () => {
    expect(value(parseDuration('1d2h3m4s5ms'))).toBe(93_784_005);
    expect(parseDuration('30m1h')).toEqual({ ok: false, error: '"30m1h" has its units out of order; write them largest first: 1h30m' });
    expect(parseDuration('1m1m')).toEqual({ ok: false, error: '"1m1m" gives m more than once; write each unit once, largest first: 2m' });
    expect(parseDuration('45s1h30s')).toEqual({ ok: false, error: '"45s1h30s" gives s more than once; write each unit once, largest first: 1h1m15s' });
    expect(parseDuration('500ms1s').ok).toBe(false);
  });
  it('prints compound and round-trips', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(250)).toBe('250ms');
    fc.assert(fc.property(fc.nat({ max: 10 * 86_400_000 }), (n) => value(parseDuration(formatDuration(n))) === n));
  });
});
