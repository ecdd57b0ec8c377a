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

/** The app's own start: spawn to its "listening" line, no berth involved. */
export function ownStart(cwd: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const begun = performance.now();
    const child = spawn('/bin/sh', ['-c', `exec ${process.execPath} server.js`], { cwd, env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (!chunk.includes('listening')) return;
      const took = performance.now() - begun;
      child.once('exit', () => resolve(took));
      child.kill('SIGKILL');
    });
    child.once('error', reject);
  });
}
