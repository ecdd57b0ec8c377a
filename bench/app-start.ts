// What the agent benchmarks compare the driver against: the example app started without berth,
// and the latency summary both report.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const tenths = (value: number) => Math.round(value * 10) / 10;

/** p50, p99 and max, to a tenth. */
export const summary = (values: number[]) => ({ p50: tenths(percentile(values, 50)), p99: tenths(percentile(values, 99)), max: tenths(Math.max(...values)) });

/** The example app's own account of its start, from its "listening" line: ms from the process's start. */
export function inAppStart(line: string): number | undefined {
  const match = /, ([\d.]+) ms after start/.exec(line);
  return match === null ? undefined : Number(match[1]);
}

export interface OwnStart {
  /** spawn to its "listening" line */
  readonly total: number;
  /** the part the app itself reports (its process's start to listening) */
  readonly inApp: number;
}

/** The app's own start, no berth involved: spawn to its "listening" line, and the part the app reports. */
export function ownStartDetail(cwd: string, port: number): Promise<OwnStart> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `exec ${process.execPath} server.js`], { cwd, env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    // from when spawn returns, as the driver's "starting" is reported: the same starting line for both
    const begun = performance.now();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (!chunk.includes('listening')) return;
      const total = performance.now() - begun;
      const inApp = inAppStart(chunk);
      child.once('exit', () => (inApp === undefined ? reject(new Error(`the app's listening line says nothing of its start: ${chunk}`)) : resolve({ total, inApp })));
      child.kill('SIGKILL');
    });
    child.once('error', reject);
  });
}

/** The app's own start: spawn to its "listening" line, no berth involved. */
export async function ownStart(cwd: string, port: number): Promise<number> {
  return (await ownStartDetail(cwd, port)).total;
}
