// Runs wrk and reads its report: requests per second and latency percentiles.
import { execFile } from 'node:child_process';

export interface LoadResult {
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  /** socket errors plus non-2xx/3xx answers */
  readonly errors: number;
}

function milliseconds(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

export function parseWrk(output: string): LoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)/m.exec(output);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)/m.exec(output);
  if (rps === null || p50 === null || p99 === null) throw new Error(`cannot read wrk's output:\n${output}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  // wrk counts a read error for every server-side close under Connection: close; only connect,
  // write and timeout errors mean the proxy failed
  const errors = (socket === null ? 0 : Number(socket[1]) + Number(socket[3]) + Number(socket[4])) + (non2xx === null ? 0 : Number(non2xx[1]));
  return { rps: Math.round(Number(rps[1])), p50_ms: milliseconds(p50[1]!, p50[2]!), p99_ms: milliseconds(p99[1]!, p99[2]!), errors };
}

export interface WrkRun {
  readonly port: number;
  readonly seconds: number;
  readonly connections: number;
  readonly close: boolean;
  /** the core wrk is pinned to */
  readonly cpu: number;
}

export function runWrk(run: WrkRun): Promise<LoadResult> {
  const args = ['-c', String(run.cpu), 'wrk', '-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--latency', '-H', 'Host: bench.test'];
  if (run.close) args.push('-H', 'Connection: close');
  args.push(`http://127.0.0.1:${run.port}/`);
  return new Promise((resolve, reject) => {
    execFile('taskset', args, { timeout: (run.seconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
      else {
        try {
          resolve(parseWrk(stdout));
        } catch (parseError) {
          reject(parseError as Error);
        }
      }
    });
  });
}
