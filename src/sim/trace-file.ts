// Reads a load trace file: whitespace-separated requests-per-second values, one per second,
// plain or gzipped (told by the gzip magic bytes, not the name).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Parses whitespace-separated non-negative numbers; a byte loop, as traces run to millions. */
export function parseTrace(bytes: Uint8Array, scale = 1): Float64Array {
  let out = new Float64Array(1 << 16);
  let n = 0;
  let i = 0;
  const len = bytes.length;
  while (i < len) {
    while (i < len && isSpace(bytes[i]!)) i++;
    if (i >= len) break;
    const start = i;
    let whole = 0;
    let simple = true; // digits only: parse inline; anything else goes through Number()
    while (i < len && !isSpace(bytes[i]!)) {
      const c = bytes[i]!;
      if (c >= 48 && c <= 57) whole = whole * 10 + (c - 48);
      else simple = false;
      i++;
    }
    const value = simple ? whole : Number(new TextDecoder().decode(bytes.subarray(start, i)));
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`trace value ${n + 1} is "${new TextDecoder().decode(bytes.subarray(start, i))}"; write non-negative requests per second`);
    }
    if (n === out.length) {
      const bigger = new Float64Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out[n++] = value * scale;
  }
  return out.slice(0, n);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

export function readTraceFile(path: string, scale = 1): Float64Array {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return parseTrace(bytes, scale);
}
