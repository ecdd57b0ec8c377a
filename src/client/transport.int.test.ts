// The client's node:http transport against a real server: bodies, keep-alive reuse, and a
// timeout that says it was one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeHttpTransport } from './transport.js';

let server: Server;
let base = '';
const peers = new Set<number>();
beforeAll(async () => {
  server = createServer((req, res) => {
    peers.add(req.socket.remotePort ?? 0);
    if (req.url === '/slow') return; // never answers
    if (req.url === '/stalls') return void res.write('first part'); // answers, then falls silent
    res.end(`${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('answers with status and body, and reuses one kept-alive connection', async () => {
  for (let n = 0; n < 3; n++) {
    const response = await nodeHttpTransport({ method: 'POST', url: new URL(`${base}/x?n=${n}`), headers: {}, body: '{}', signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`POST /x?n=${n}`);
  }
  expect(peers.size).toBe(1);
});

it('rejects with the timeout itself when the server stays silent', async () => {
  const request = nodeHttpTransport({ method: 'GET', url: new URL(`${base}/slow`), headers: {}, signal: AbortSignal.timeout(100) });
  await expect(request).rejects.toMatchObject({ name: 'TimeoutError' });
});

it('ends a body that stops coming with the timeout itself, not a bare abort', async () => {
  const response = await nodeHttpTransport({ method: 'GET', url: new URL(`${base}/stalls`), headers: {}, signal: AbortSignal.timeout(300) });
  const parts: string[] = [];
  const reading = (async () => {
    for await (const chunk of response.chunks()) parts.push(Buffer.from(chunk).toString());
  })();
  await expect(reading).rejects.toMatchObject({ name: 'TimeoutError' });
  expect(parts).toEqual(['first part']);
});
