import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import { freePort } from '../agent/port-allocator.js';

const SEED = 'edge-tcp';

/** A TCP instance that greets with its id and echoes. */
async function startTcpInstance(id: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((socket) => {
    socket.write(`${id}:`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

function talk(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let seen = '';
    socket.on('data', (chunk) => {
      seen += chunk.toString();
      if (seen.endsWith(text)) {
        socket.end();
        resolve(seen);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
    socket.write(text);
  });
}

describe(`TCP routes (seed ${SEED})`, () => {
  let edge: RunningEdge;
  let instances: { server: net.Server; port: number }[] = [];
  let routePort = 0;
  let source: MemoryRouteSource;
  beforeAll(async () => {
    instances = await Promise.all(['db-1', 'db-2'].map(startTcpInstance));
    routePort = await freePort();
    source = new MemoryRouteSource({
      version: 1,
      tcp: [{ port: routePort, service: 'db', balancer: 'round-robin', instances: instances.map((i, n) => ({ id: `db-${n + 1}`, address: '127.0.0.1', port: i.port, ready: true })) }],
    });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, tcpHost: '127.0.0.1', source, seed: SEED, log: () => {} });
    await edge.waitForVersion(1);
  });
  afterAll(async () => {
    await edge.close();
    await Promise.all(instances.map((i) => new Promise((resolve) => i.server.close(resolve))));
  });

  it('listens on the route port, balances connections and pipes both ways', async () => {
    const answers = await Promise.all([talk(routePort, 'hello'), talk(routePort, 'hello')]);
    expect(answers.sort()).toEqual(['db-1:hello', 'db-2:hello']);
  });

  it('closes the port when the route goes away', async () => {
    source.publish({ version: 2, tcp: [] });
    await edge.waitForVersion(2);
    await expect(talk(routePort, 'x').then(() => 'connected')).rejects.toThrow(/ECONNREFUSED/);
  });
});
