import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blackHole } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RouteTableDocument } from './route-table.js';
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

type TcpEntry = NonNullable<RouteTableDocument['tcp']>[number];

/** An edge with one TCP route to the given instances; closed after each test. */
async function edgeFor(route: Omit<TcpEntry, 'port' | 'service'>, extra: { idleMs?: number; connectMs?: number } = {}): Promise<{ edge: RunningEdge; port: number }> {
  const port = await freePort();
  const source = new MemoryRouteSource({ version: 1, tcp: [{ port, service: 'db', ...route }] });
  const edge = await startEdge({
    listen: { host: '127.0.0.1', port: 0 },
    tcpHost: '127.0.0.1',
    source,
    seed: SEED,
    log: () => {},
    timeouts: { ...(extra.idleMs === undefined ? {} : { idleMs: extra.idleMs }), ...(extra.connectMs === undefined ? {} : { connectMs: extra.connectMs }) },
  });
  await edge.waitForVersion(1);
  opened.push(edge);
  return { edge, port };
}

async function listen(handler: (socket: net.Socket) => void, options: net.ServerOpts = {}): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(options, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** Everything the socket receives until the other side's FIN (or a close), and how it ended. */
function readAll(socket: net.Socket): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let ended = false;
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => {
      ended = true;
      resolve({ text, ended });
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, ended }));
  });
}

const opened: RunningEdge[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((edge) => edge.close()));
  for (const server of servers.splice(0)) server.close();
});

const at = (port: number, id = `db-${port}`) => ({ id, address: '127.0.0.1', port, ready: true });

describe(`TCP routes pass half-closes through (seed ${SEED})`, () => {
  it("passes the client's FIN on and still brings back the answer", async () => {
    // answers once the client has said all it will: the shape of many request/response protocols
    const instance = await listen(
      (socket) => {
        let got = '';
        socket.on('data', (chunk) => (got += chunk.toString()));
        socket.on('end', () => socket.end(got.toUpperCase()));
      },
      { allowHalfOpen: true },
    );
    const { port } = await edgeFor({ instances: [at(instance.port)] });
    const client = net.connect(port, '127.0.0.1');
    const answer = readAll(client);
    client.end('hello');
    expect(await answer).toEqual({ text: 'HELLO', ended: true });
  });

  it("passes the instance's FIN on and still carries what the client sends after it", async () => {
    let heard!: (text: string) => void;
    const afterFin = new Promise<string>((resolve) => (heard = resolve));
    const instance = await listen(
      (socket) => {
        let got = '';
        socket.end('bye');
        socket.on('data', (chunk) => (got += chunk.toString()));
        socket.on('end', () => heard(got));
      },
      { allowHalfOpen: true },
    );
    const { edge, port } = await edgeFor({ instances: [at(instance.port)] });
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const closed = once(client, 'close');
    const answer = await readAll(client);
    expect(answer).toEqual({ text: 'bye', ended: true });
    client.end('late words');
    expect(await afterFin).toBe('late words');
    // both sides ended: the edge lets go of the connection
    await closed;
    await sleep(20);
    expect(edge.routing.tcpService(port)!.connections).toBe(0);
  });
});

describe(`TCP routes retry a refused connect (seed ${SEED})`, () => {
  it('sends a connection refused by one instance to another, once, and counts the failure for outlier detection', async () => {
    const live = await startTcpInstance('db-live');
    servers.push(live.server);
    const dead = await freePort();
    const { edge, port } = await edgeFor({ balancer: 'round-robin', instances: [at(dead, 'db-dead'), at(live.port, 'db-live')] });
    // round robin sends one of these two to the dead instance first
    const answers = await Promise.all([talk(port, 'a'), talk(port, 'b')]);
    expect(answers.sort()).toEqual(['db-live:a', 'db-live:b']);
    const service = edge.routing.tcpService(port)!;
    const deadInstance = service.all().find((i) => i.id === 'db-dead')!;
    expect(deadInstance.failures).toBeGreaterThanOrEqual(1);
    expect(deadInstance.outlier.consecutiveFailures).toBe(deadInstance.failures);
    expect(service.retries).toBe(deadInstance.failures);
    // nothing stays counted against either instance
    await sleep(50);
    expect(service.all().map((i) => [i.connections, i.inFlight])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('ends a run of connect failures when a connect works', async () => {
    const live = await startTcpInstance('db-1');
    servers.push(live.server);
    const { edge, port } = await edgeFor({ instances: [at(live.port, 'db-1')] });
    const instance = edge.routing.tcpService(port)!.all()[0]!;
    instance.outlier.consecutiveFailures = 3;
    expect(await talk(port, 'x')).toBe('db-1:x');
    expect(instance.outlier.consecutiveFailures).toBe(0);
  });

  it('gives up on an instance that does not accept within the connect timeout and tries another', async () => {
    const hole = await blackHole();
    const live = await startTcpInstance('db-live');
    servers.push(live.server);
    try {
      const { edge, port } = await edgeFor({ balancer: 'round-robin', instances: [at(hole.port, 'db-silent'), at(live.port, 'db-live')] }, { connectMs: 300 });
      const answers = await Promise.all([talk(port, 'a'), talk(port, 'b')]);
      expect(answers.sort()).toEqual(['db-live:a', 'db-live:b']);
      expect(edge.routing.tcpService(port)!.all().find((i) => i.id === 'db-silent')!.failures).toBe(1);
    } finally {
      hole.close();
    }
  });

  it('gives up after one retry', async () => {
    const { edge, port } = await edgeFor({ instances: [at(await freePort(), 'db-1'), at(await freePort(), 'db-2'), at(await freePort(), 'db-3')] });
    const client = net.connect(port, '127.0.0.1');
    // the edge closes the client's connection without a byte
    expect((await readAll(client)).text).toBe('');
    const failures = edge.routing.tcpService(port)!.all().reduce((sum, i) => sum + i.failures, 0);
    expect(failures).toBe(2);
  });
});

describe(`TCP routes cut idle connections per route (seed ${SEED})`, () => {
  it("closes a connection silent for the route's idleTimeoutMs", async () => {
    const live = await startTcpInstance('db-1');
    servers.push(live.server);
    const { port } = await edgeFor({ idleTimeoutMs: 200, instances: [at(live.port)] });
    const client = net.connect(port, '127.0.0.1');
    const closed = readAll(client);
    client.write('x');
    const started = performance.now();
    await closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('keeps a connection of a route that names no idle timeout past the HTTP idle timeout: the default is 1h', async () => {
    const live = await startTcpInstance('db-1');
    servers.push(live.server);
    // the HTTP side cuts idle clients after 100 ms here; a TCP route must not follow it
    const { edge, port } = await edgeFor({ instances: [at(live.port)] }, { idleMs: 100 });
    expect(edge.routing.tcpService(port)!.config.idleTimeoutMs).toBe(3_600_000);
    const client = net.connect(port, '127.0.0.1');
    const ended = readAll(client);
    client.write('a');
    await sleep(400);
    client.write('b');
    await sleep(50);
    client.end();
    expect(await ended).toEqual({ text: 'db-1:ab', ended: true });
  });
});

describe(`TCP routes report open connections as in flight (seed ${SEED})`, () => {
  it('counts each open connection in inFlight and in the concurrency the autoscaler reads', async () => {
    const live = await startTcpInstance('db-1');
    servers.push(live.server);
    const { edge, port } = await edgeFor({ concurrency: { type: 'connections' }, instances: [at(live.port)] });
    const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    // the greeting comes through once the edge has connected to the instance
    await Promise.all(clients.map((c) => once(c, 'data')));
    edge.metrics.report();
    await sleep(100);
    const open = edge.metrics.report().services.find((s) => s.service === 'db')!;
    expect(open).toMatchObject({ kind: 'tcp', inFlight: 2, connections: 2 });
    expect(open.concurrency).toBeCloseTo(2, 1);
    expect(open.instances[0]).toMatchObject({ inFlight: 2, connections: 2 });
    await Promise.all(clients.map((c) => (c.end(), once(c, 'close'))));
    await sleep(20);
    expect(edge.metrics.report().services.find((s) => s.service === 'db')).toMatchObject({ inFlight: 0, connections: 0 });
  });
});
