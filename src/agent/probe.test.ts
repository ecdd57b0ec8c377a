import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Probe } from '../spec/probe.js';
import { HealthWatch } from './health-watch.js';
import { runProbe, type ProbeTarget } from './probe.js';
import { freePort } from './port-allocator.js';

const timing = { interval: 1_000, timeout: 300, failures: 3, initialDelay: 0 };

describe('probes', () => {
  let server: Server;
  let target: ProbeTarget;
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      const status = Number(req.url?.slice(1));
      if (req.url === '/slow') return void setTimeout(() => res.end(), 1_000);
      res.statusCode = Number.isInteger(status) && status >= 200 ? status : 200;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    target = { host: '127.0.0.1', port: typeof address === 'object' && address ? address.port : 0, cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', PORT: '1' } };
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const http = (path: string): Probe => ({ type: 'http', path, ...timing });

  it('http passes on 200-399 and fails on 4xx, 5xx, timeouts and refused connections', async () => {
    expect(await runProbe(http('/200'), target)).toEqual({ ok: true, detail: 'http 200' });
    expect((await runProbe(http('/302'), target)).ok).toBe(true);
    expect(await runProbe(http('/404'), target)).toEqual({ ok: false, detail: 'http 404' });
    expect(await runProbe(http('/503'), target)).toEqual({ ok: false, detail: 'http 503' });
    expect((await runProbe(http('/slow'), target)).ok).toBe(false);
    expect(await runProbe(http('/200'), { ...target, port: await freePort() })).toEqual({ ok: false, detail: 'http ECONNREFUSED' });
  });

  it('tcp passes when the port accepts a connection', async () => {
    expect((await runProbe({ type: 'tcp', ...timing }, target)).ok).toBe(true);
    const listener = createTcpServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    const address = listener.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect((await runProbe({ type: 'tcp', port, ...timing }, target)).ok).toBe(true);
    listener.close();
    expect(await runProbe({ type: 'tcp', port: await freePort(), ...timing }, target)).toEqual({ ok: false, detail: 'tcp ECONNREFUSED' });
  });

  it('exec passes on exit 0, in the instance env, and is killed at its timeout', async () => {
    expect(await runProbe({ type: 'exec', command: 'test "$PORT" = 1', ...timing }, target)).toEqual({ ok: true, detail: 'exec exit 0' });
    expect(await runProbe({ type: 'exec', command: 'exit 2', ...timing }, target)).toEqual({ ok: false, detail: 'exec exit 2' });
    const begun = Date.now();
    expect(await runProbe({ type: 'exec', command: 'sleep 5', ...timing, timeout: 100 }, target)).toEqual({ ok: false, detail: 'exec timed out after 100ms' });
    expect(Date.now() - begun).toBeLessThan(1_000);
  });

  it('an instance that never becomes ready is unhealthy after initialDelay + failures × interval', async () => {
    const events: string[] = [];
    const ready: Probe = { type: 'tcp', port: await freePort(), interval: 50, timeout: 50, failures: 2, initialDelay: 0 };
    const begun = Date.now();
    const watch = new HealthWatch(
      { ready },
      target,
      { ready: () => events.push('ready'), unhealthy: (detail) => events.push(detail), livenessFailed: () => events.push('dead') },
      { startingPoll: 10 },
    );
    watch.start();
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    watch.stop();
    expect(Date.now() - begun).toBeGreaterThanOrEqual(100);
    expect(events[0]).toMatch(/^not ready after \d+ms: tcp ECONNREFUSED$/);
  });
});
