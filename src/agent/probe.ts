// One health check of one instance, as the spec defines it (src/spec/probe.ts): http (status
// 200-399), tcp (connects) or exec (exits 0), each bounded by the probe's timeout.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Probe } from '../spec/probe.js';

export interface ProbeTarget {
  readonly host: string;
  /** the instance's $PORT, used when the probe names none */
  readonly port: number;
  /** where and with what env an exec probe runs: the instance's own */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** what was seen, for the instance's status message: "http 503", "tcp ECONNREFUSED" */
  readonly detail: string;
}

export function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  switch (probe.type) {
    case 'http':
      return httpProbe(target.host, probe.port ?? target.port, probe.path, probe.timeout);
    case 'tcp':
      return tcpProbe(target.host, probe.port ?? target.port, probe.timeout);
    case 'exec':
      return execProbe(probe.command, target, probe.timeout);
  }
}

function httpProbe(host: string, port: number, path: string, timeout: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    // agent: false: a fresh connection per probe, so a wedged keep-alive socket cannot pass for health
    const req = request({ host, port, path, method: 'GET', agent: false, timeout, headers: { 'user-agent': 'berth-probe' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      resolve({ ok: status >= 200 && status < 400, detail: `http ${status}` });
    });
    req.once('timeout', () => req.destroy(new Error(`timed out after ${timeout}ms`)));
    req.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: `http ${error.code ?? error.message}` }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeout: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: 'tcp connected' });
    });
    socket.once('timeout', () => socket.destroy(new Error(`timed out after ${timeout}ms`)));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: `tcp ${error.code ?? error.message}` }));
  });
}

function execProbe(command: string, target: ProbeTarget, timeout: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    // its own group, so a timeout kills what the command started too
    const child = spawn('/bin/sh', ['-c', command], { cwd: target.cwd, env: target.env, stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) killGroup(child.pid);
      resolve({ ok: false, detail: `exec timed out after ${timeout}ms` });
    }, timeout);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `exec ${error.message}` });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, detail: code === null ? `exec killed by ${signal}` : `exec exit ${code}` });
    });
  });
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}
