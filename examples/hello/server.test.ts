import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => children.splice(0).forEach((c) => c.kill('SIGKILL')));

it('serves its instance and release on $PORT and answers /healthz', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, PORT: String(port), BERTH_INSTANCE: 'hello-1', BERTH_RELEASE: 'v3' },
  });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(health.status).toBe(200);
  const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  expect(body).toContain('instance=hello-1 release=v3');
});
