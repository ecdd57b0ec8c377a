// `berth` run in process for the CLI's tests: main() with stdout and stderr captured, and
// process.exitCode cleared after, so a failing command does not fail the test run itself.
import net from 'node:net';
import { expect, vi } from 'vitest';
import { main } from './main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `berth <args>`, capturing what it writes. */
export async function runBerth(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'berth', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

/** Holds a port on 127.0.0.1, as another program would. */
export async function holdPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Whether the port on 127.0.0.1 is free again (a command that failed let go of it). */
export async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A failure the way a user should see it: this one line on stderr, exit 1, no stack trace. */
export function expectCleanFailure(run: CliRun, message: string): void {
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(`berth: ${message}\n`);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}
