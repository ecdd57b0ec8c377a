import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseTrace, readTraceFile } from './trace-file.js';

describe('trace files', () => {
  it('parses whitespace-separated values, decimals included', () => {
    expect(Array.from(parseTrace(new TextEncoder().encode(' 1 2\n3\t4.5\r\n\n10 ')))).toEqual([1, 2, 3, 4.5, 10]);
  });

  it('reads plain and gzipped files alike, by their bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-trace-'));
    writeFileSync(join(dir, 'plain.txt'), '5 6 7\n');
    writeFileSync(join(dir, 'zipped.txt'), gzipSync('5 6 7\n'));
    expect(Array.from(readTraceFile(join(dir, 'plain.txt')))).toEqual([5, 6, 7]);
    expect(Array.from(readTraceFile(join(dir, 'zipped.txt')))).toEqual([5, 6, 7]);
  });

  it('names the value that is not a rate', () => {
    expect(() => parseTrace(new TextEncoder().encode('1 2 lots'))).toThrow('trace value 3 is "lots"; write non-negative requests per second');
    expect(() => parseTrace(new TextEncoder().encode('1 -2'))).toThrow(/trace value 2 is "-2"/);
  });
});
