import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { blackHole } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import type { ControlPlaneLink } from './control-plane-link.js';
import { MemoryRouteSource } from './memory-route-source.js';
import { readProxyHeader, type ProxyHeader } from './proxy-protocol.js';
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
async function edgeFor(
  route: Omit<TcpEntry, 'port' | 'service'>,
  extra: { idleMs?: number; connectMs?: number; trustedProxies?: string[]; proxyProtocol?: boolean; link?: ControlPlaneLink } = {},
): Promise<{ edge: RunningEdge; port: number; source: MemoryRouteSource }> {
  const port = await freePort();
  const source = new MemoryRouteSource({ version: 1, tcp: [{ port, service: 'db', ...route }] });
  const edge = await startEdge({
    listen: { host: '127.0.0.1', port: 0 },
    tcpHost: '127.0.0.1',
    source,
    seed: SEED,
    log: () => {},
    timeouts: { ...(extra.idleMs === undefined ? {} : { idleMs: extra.idleMs }), ...(extra.connectMs === undefined ? {} : { connectMs: extra.connectMs }) },
    ...(extra.trustedProxies === undefined ? {} : { trustedProxies: extra.trustedProxies }),
    ...(extra.proxyProtocol === undefined ? {} : { proxyProtocol: extra.proxyProtocol }),
    ...(extra.link === undefined ? {} : { link: extra.link }),
  });
  await edge.waitForVersion(1);
  opened.push(edge);
  return { edge, port, source };
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
    expect(edge.routing.tcpRoute(port)!.service.connections).toBe(0);
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
    const service = edge.routing.tcpRoute(port)!.service;
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
    const instance = edge.routing.tcpRoute(port)!.service.all()[0]!;
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
      expect(edge.routing.tcpRoute(port)!.service.all().find((i) => i.id === 'db-silent')!.failures).toBe(1);
    } finally {
      hole.close();
    }
  });

  it('gives up after one retry', async () => {
    const { edge, port } = await edgeFor({ instances: [at(await freePort(), 'db-1'), at(await freePort(), 'db-2'), at(await freePort(), 'db-3')] });
    const client = net.connect(port, '127.0.0.1');
    // the edge closes the client's connection without a byte
    expect((await readAll(client)).text).toBe('');
    const failures = edge.routing.tcpRoute(port)!.service.all().reduce((sum, i) => sum + i.failures, 0);
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
    expect(edge.routing.tcpRoute(port)!.service.config.idleTimeoutMs).toBe(3_600_000);
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

/** A TCP instance that greets with its id, echoes, and keeps the most connections it ever had open at once. */
async function countingInstance(id: string): Promise<{ port: number; open: number; most: number; served: number }> {
  const counts = { port: 0, open: 0, most: 0, served: 0 };
  const { port } = await listen((socket) => {
    counts.open++;
    counts.served++;
    counts.most = Math.max(counts.most, counts.open);
    // the edge's FIN ends the connection's share of the limit (the edge may count the slot free
    // before this side's close event)
    let done = false;
    const gone = () => {
      if (!done) counts.open--;
      done = true;
    };
    socket.once('end', gone);
    socket.once('close', gone);
    socket.on('error', () => {});
    socket.write(`${id}:`);
    socket.pipe(socket);
  });
  counts.port = port;
  return counts;
}

/** Connects (from `localAddress`, a loopback address, when given) and resolves with the greeting's instance id, or '' when closed without one. */
function greetedBy(port: number, localAddress?: string): { socket: net.Socket; instance: Promise<string> } {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress === undefined ? {} : { localAddress }) });
  socket.on('error', () => {});
  const instance = new Promise<string>((resolve) => {
    socket.once('data', (chunk) => resolve(chunk.toString().replace(/:.*$/s, '')));
    socket.once('close', () => resolve(''));
  });
  return { socket, instance };
}

/** One connection that is greeted and then closed by the client. */
async function oneConnection(port: number, localAddress?: string): Promise<string> {
  const { socket, instance } = greetedBy(port, localAddress);
  const id = await instance;
  socket.end();
  await once(socket, 'close');
  return id;
}

describe(`TCP routes balance and stick as the route says (seed ${SEED})`, () => {
  it('ip affinity keeps each client address on one instance, and spreads addresses over the instances', async () => {
    const live = await Promise.all(['db-1', 'db-2', 'db-3'].map(countingInstance));
    const { port } = await edgeFor({ affinity: { type: 'ip' }, instances: live.map((instance, n) => at(instance.port, `db-${n + 1}`)) });
    const addresses = Array.from({ length: 12 }, (_, n) => `127.0.0.${n + 2}`);
    const owners = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (const address of addresses) {
        const owner = await oneConnection(port, address);
        owners.set(address, (owners.get(address) ?? new Set()).add(owner));
      }
    }
    for (const [address, seen] of owners) expect([address, [...seen]]).toEqual([address, [expect.stringMatching(/^db-\d$/)]]);
    // 12 addresses over 3 instances: the hash does not send them all to one
    expect(new Set([...owners.values()].map((seen) => [...seen][0])).size).toBeGreaterThan(1);
  });

  it('round-robin takes the instances in turn for connections from one address', async () => {
    const live = await Promise.all(['db-1', 'db-2', 'db-3'].map(countingInstance));
    const { port } = await edgeFor({ balancer: 'round-robin', instances: live.map((instance, n) => at(instance.port, `db-${n + 1}`)) });
    const owners: string[] = [];
    for (let n = 0; n < 6; n++) owners.push(await oneConnection(port, '127.0.0.2'));
    expect(owners.slice(3)).toEqual(owners.slice(0, 3));
    expect(new Set(owners.slice(0, 3)).size).toBe(3);
    expect(live.map((instance) => instance.served)).toEqual([2, 2, 2]);
  });
});

describe(`TCP routes hold connections at the hard limit (seed ${SEED})`, () => {
  it('never opens more than concurrency.hard connections to an instance; the others wait, unread, and are served as slots free up', async () => {
    const live = await Promise.all(['db-1', 'db-2'].map(countingInstance));
    const { edge, port } = await edgeFor({
      concurrency: { type: 'connections', hard: 2 },
      queue: { limit: 16, timeoutMs: 10_000 },
      instances: live.map((instance, n) => at(instance.port, `db-${n + 1}`)),
    });
    const service = edge.routing.tcpRoute(port)!.service;
    let mostQueued = 0;
    // 10 clients at once, each holding its connection for 100 ms once greeted: 4 fit, 6 wait
    const clients = Array.from({ length: 10 }, async () => {
      const { socket, instance } = greetedBy(port);
      const id = await instance;
      mostQueued = Math.max(mostQueued, service.queued);
      expect(service.all().every((i) => i.connections <= 2)).toBe(true);
      await sleep(100);
      socket.end();
      await once(socket, 'close');
      return id;
    });
    const served = await Promise.all(clients);
    expect(served.every((id) => id === 'db-1' || id === 'db-2')).toBe(true);
    expect(live.map((instance) => instance.most)).toEqual([2, 2]);
    expect(live[0]!.served + live[1]!.served).toBe(10);
    expect(mostQueued).toBeGreaterThan(0);
    expect(service.rejected).toBe(0);
  });

  it('closes a held connection when the queue timeout passes, and one that finds the queue full at once', async () => {
    const live = await countingInstance('db-1');
    const { edge, port } = await edgeFor({ concurrency: { type: 'connections', hard: 1 }, queue: { limit: 1, timeoutMs: 400 }, instances: [at(live.port, 'db-1')] });
    const holder = greetedBy(port);
    expect(await holder.instance).toBe('db-1');
    const started = performance.now();
    const waiting = greetedBy(port);
    const waited = waiting.instance.then((id) => ({ id, ms: performance.now() - started }));
    // let the edge accept the first waiter before the second comes
    await sleep(50);
    const full = greetedBy(port);
    const turnedAway = full.instance.then((id) => ({ id, ms: performance.now() - started }));
    expect(await turnedAway).toMatchObject({ id: '' });
    expect((await turnedAway).ms).toBeLessThan(350);
    expect(await waited).toMatchObject({ id: '' });
    expect((await waited).ms).toBeGreaterThanOrEqual(350);
    expect(edge.routing.tcpRoute(port)!.service.rejected).toBe(2);
    // the instance only ever saw the one it had room for; once it is free, the next is served
    expect(live.most).toBe(1);
    holder.socket.end();
    await once(holder.socket, 'close');
    expect(await oneConnection(port)).toBe('db-1');
  });
});

/** Polls `check` until it holds; fails naming `what` after a generous 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A TCP instance that greets with its id and keeps, per connection, all it receives. */
async function recordingInstance(id: string): Promise<{ port: number; received: Buffer[][] }> {
  const received: Buffer[][] = [];
  const { port } = await listen((socket) => {
    const chunks: Buffer[] = [];
    received.push(chunks);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.write(`${id}:`);
  });
  return { port, received };
}

describe(`TCP routes let a queued client leave and keep what it sends (seed ${SEED})`, () => {
  // hard: 1, queue of 1: one client is served, one waits; the queue timeout is long, so only the
  // client's leaving can free the place in these tests
  const oneAtATime = { concurrency: { type: 'connections' as const, hard: 1 }, queue: { limit: 1, timeoutMs: 30_000 } };

  /** An edge in front of one instance at `instancePort`, client A served and client B queued behind it. */
  async function servedAndQueued(instancePort: number) {
    const { edge, port } = await edgeFor({ ...oneAtATime, instances: [at(instancePort, 'db-1')] });
    const service = edge.routing.tcpRoute(port)!.service;
    const a = greetedBy(port);
    expect(await a.instance).toBe('db-1');
    const b = greetedBy(port);
    await until(() => service.queued === 1, 'B is queued');
    return { port, service, a, b };
  }

  it.each([
    ['closes', (socket: net.Socket) => socket.destroy()],
    ['resets', (socket: net.Socket) => socket.resetAndDestroy()],
  ])('drops a queued client that %s at once: the next one gets its place, and the instance never sees it', async (_, leave) => {
    const live = await countingInstance('db-1');
    const { port, service, a, b } = await servedAndQueued(live.port);
    leave(b.socket);
    expect(await b.instance).toBe('');
    // B's place is free long before the queue timeout
    await until(() => service.queued === 0, 'B has left the queue');
    // C takes the place rather than being turned away as the queue is full
    const c = greetedBy(port);
    await until(() => service.queued === 1, 'C is queued');
    a.socket.end();
    expect(await c.instance).toBe('db-1');
    c.socket.end();
    await once(c.socket, 'close');
    expect(live.served).toBe(2);
    // a client that left was not turned away: the route's rejections stay at none
    expect(service.rejected).toBe(0);
  });

  it('sends what a client wrote while queued to the instance first, in order, then what it writes once served', async () => {
    const live = await recordingInstance('db-1');
    const { service, a, b } = await servedAndQueued(live.port);
    // more than the edge holds for a queued client (64 KiB): the rest waits in TCP's buffers
    const early = Buffer.alloc(256 * 1024);
    for (let i = 0; i < early.length; i++) early[i] = (i * 7 + (i >> 10)) & 0xff;
    b.socket.write(early.subarray(0, 1000));
    await sleep(50);
    b.socket.write(early.subarray(1000));
    await sleep(100);
    expect(service.queued).toBe(1);
    a.socket.end();
    expect(await b.instance).toBe('db-1');
    b.socket.write('late');
    const expected = Buffer.concat([early, Buffer.from('late')]);
    await until(() => live.received.length === 2 && Buffer.concat(live.received[1]!).length >= expected.length, 'the instance has all of B');
    expect(Buffer.concat(live.received[1]!).equals(expected)).toBe(true);
    b.socket.destroy();
  });

  it('keeps the place of a queued client that half-closes after its request, and brings it the answer', async () => {
    // answers once the client has said all it will (as in the half-close tests above)
    const instance = await listen(
      (socket) => {
        let got = '';
        socket.on('data', (chunk) => (got += chunk.toString()));
        socket.on('end', () => socket.end(got.toUpperCase()));
        socket.on('error', () => {});
      },
      { allowHalfOpen: true },
    );
    const { edge, port } = await edgeFor({ ...oneAtATime, instances: [at(instance.port)] });
    const service = edge.routing.tcpRoute(port)!.service;
    const holder = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    holder.on('error', () => {});
    await until(() => service.connections === 1 && service.queued === 0, 'the first client holds the slot');
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const answer = readAll(client);
    await until(() => service.queued === 1, 'the client is queued');
    client.end('hello');
    // time for the edge to see the FIN; the client stays queued
    await sleep(200);
    expect(service.queued).toBe(1);
    holder.destroy();
    expect(await answer).toEqual({ text: 'HELLO', ended: true });
  });
});

describe(`TCP routes behind an L4 balancer sending the PROXY protocol (seed ${SEED})`, () => {
  // the edge trusts 127.0.0.1 as the balancer; 127.0.0.2 is a stranger (both loopback on Linux)
  const behindBalancer = { trustedProxies: ['127.0.0.1/32'], proxyProtocol: true };

  /** A connection from `localAddress` that sends `parts` one write at a time, then its greeting's instance id ('' when closed without one). */
  async function through(port: number, localAddress: string, parts: string[]): Promise<string> {
    const { socket, instance } = greetedBy(port, localAddress);
    await once(socket, 'connect');
    for (const part of parts) {
      socket.write(part);
      await sleep(20);
    }
    const id = await instance;
    socket.end();
    if (!socket.destroyed) await once(socket, 'close');
    return id;
  }

  it('keys ip affinity on the client a header names, and sends the instance only what follows the header', async () => {
    const live = await recordingInstance('db-1');
    const { port } = await edgeFor({ instances: [at(live.port, 'db-1')] }, behindBalancer);
    // the header in two pieces, the client's first bytes in the same write as its end
    expect(await through(port, '127.0.0.1', ['PROXY TCP4 203.0.113', '.7 10.0.0.5 5000 5432\r\nhello'])).toBe('db-1');
    await until(() => live.received.length === 1 && Buffer.concat(live.received[0]!).toString() === 'hello', 'the instance has the bytes after the header');

    const spread = await Promise.all(['db-1', 'db-2', 'db-3'].map(countingInstance));
    const affine = await edgeFor({ affinity: { type: 'ip' }, instances: spread.map((instance, n) => at(instance.port, `db-${n + 1}`)) }, behindBalancer);
    const owners = new Map<string, Set<string>>();
    for (let round = 0; round < 2; round++) {
      for (let n = 1; n <= 12; n++) {
        const client = `198.51.100.${n}`;
        const owner = await through(affine.port, '127.0.0.1', [`PROXY TCP4 ${client} 10.0.0.5 5000 5432\r\n`]);
        owners.set(client, (owners.get(client) ?? new Set()).add(owner));
      }
    }
    // each named client stays on one instance, and the twelve of them (one peer) do not all share one
    for (const [client, seen] of owners) expect([client, seen.size]).toEqual([client, 1]);
    expect(new Set([...owners.values()].map((seen) => [...seen][0])).size).toBeGreaterThan(1);
  });

  it("closes a balancer's connection whose header is malformed, and passes a stranger's bytes on as they are", async () => {
    const live = await recordingInstance('db-1');
    const { port } = await edgeFor({ instances: [at(live.port, 'db-1')] }, behindBalancer);
    expect(await through(port, '127.0.0.1', ['HELLO not a header\r\n'])).toBe('');
    expect(await through(port, '127.0.0.1', ['PROXY TCP4 203.0.113.7 ::1 1 2\r\n'])).toBe('');
    expect(live.received).toHaveLength(0);
    // a stranger cannot name a client: its header is just bytes, for the instance to make sense of
    expect(await through(port, '127.0.0.2', ['PROXY TCP4 203.0.113.7 10.0.0.5 1 2\r\n'])).toBe('db-1');
    await until(() => live.received.length === 1 && Buffer.concat(live.received[0]!).toString().startsWith('PROXY TCP4'), 'the instance has the stranger\'s bytes');
  });
});

/** What an instance behind send-proxy reads from one connection: the PROXY header, and the bytes after it. */
function behindSendProxy(chunks: Buffer[]): { header: ProxyHeader; after: string } {
  const bytes = Buffer.concat(chunks);
  const header = readProxyHeader(bytes);
  return { header, after: header.kind === 'complete' ? bytes.subarray(header.length).toString() : '' };
}

describe(`TCP routes send the PROXY protocol to instances (seed ${SEED})`, () => {
  it.each(['v1', 'v2'] as const)("%s names the client's address and port and the edge's listen port, in the instance's first read; the client's bytes follow in order", async (version) => {
    const live = await recordingInstance('db-1');
    const { port } = await edgeFor({ proxyProtocol: version, instances: [at(live.port, 'db-1')] });
    // from another loopback address than the edge's, so the source is the client's, not a copy of the destination
    const { socket, instance } = greetedBy(port, '127.0.0.2');
    // written before the edge has connected to the instance: held back until the header is out
    socket.write('hello ');
    await once(socket, 'connect');
    expect(await instance).toBe('db-1');
    socket.write('world');
    await until(() => live.received.length === 1 && behindSendProxy(live.received[0]!).after === 'hello world', 'the instance has the header and all the bytes');
    const { header } = behindSendProxy(live.received[0]!);
    expect(header).toMatchObject({ kind: 'complete', source: { address: '127.0.0.2', port: socket.localPort }, destination: { address: '127.0.0.1', port } });
    const first = live.received[0]![0]!;
    expect(first.subarray(0, 5).toString('latin1')).toBe(version === 'v1' ? 'PROXY' : '\r\n\r\n\0');
    // the header is one write, never split from itself
    expect(first.length).toBeGreaterThanOrEqual(header.kind === 'complete' ? header.length : Infinity);
    socket.destroy();
  });

  it('sends a queued client its header first, with what it sent while waiting in the same write, then the rest', async () => {
    // every socket write in this process (the edge runs in it): the instance's header must go in one with the held bytes
    const writes = vi.spyOn(net.Socket.prototype, 'write');
    onTestFinished(() => writes.mockRestore());
    const live = await recordingInstance('db-1');
    const { edge, port } = await edgeFor({ proxyProtocol: 'v1', concurrency: { type: 'connections', hard: 1 }, queue: { limit: 1, timeoutMs: 30_000 }, instances: [at(live.port, 'db-1')] });
    const service = edge.routing.tcpRoute(port)!.service;
    const a = greetedBy(port);
    expect(await a.instance).toBe('db-1');
    const aPort = a.socket.localPort;
    const b = greetedBy(port);
    await until(() => service.queued === 1, 'B is queued');
    b.socket.write('early');
    await sleep(50);
    a.socket.end();
    expect(await b.instance).toBe('db-1');
    b.socket.write(' late');
    await until(() => live.received.length === 2 && behindSendProxy(live.received[1]!).after === 'early late', 'the instance has all of B');
    const headerAndEarly = `PROXY TCP4 127.0.0.1 127.0.0.1 ${b.socket.localPort} ${port}\r\nearly`;
    expect(live.received[1]![0]!.toString('latin1')).toBe(headerAndEarly);
    const written = writes.mock.calls.map(([data]) => (Buffer.isBuffer(data) ? data.toString('latin1') : String(data)));
    expect(written).toContain(headerAndEarly);
    expect(behindSendProxy(live.received[0]!).header).toMatchObject({ source: { port: aPort } });
    b.socket.destroy();
  });

  it('behind a trusted balancer (--proxy-protocol), names the client and destination the balancer named; a stranger is named as it is', async () => {
    const live = await recordingInstance('db-1');
    const { port } = await edgeFor({ proxyProtocol: 'v2', instances: [at(live.port, 'db-1')] }, { trustedProxies: ['127.0.0.1/32'], proxyProtocol: true });
    const send = async (localAddress: string, text: string): Promise<net.Socket> => {
      const { socket, instance } = greetedBy(port, localAddress);
      socket.write(text);
      expect(await instance).toBe('db-1');
      return socket;
    };
    const balanced = await send('127.0.0.1', 'PROXY TCP4 203.0.113.7 10.0.0.5 5000 5432\r\nhello');
    const six = await send('127.0.0.1', 'PROXY TCP6 2001:db8::7 2001:db8::5 5001 5432\r\nhi');
    // the balancer's own connection (a health check) names no one: the balancer is the client
    const unknown = await send('127.0.0.1', 'PROXY UNKNOWN\r\nping');
    // not trusted: its PROXY line is only bytes, after the edge's own header naming it
    const stranger = await send('127.0.0.2', 'PROXY TCP4 198.51.100.1 10.0.0.5 1 2\r\n');
    await until(() => live.received.length === 4 && live.received.every((chunks) => behindSendProxy(chunks).after !== ''), 'the instance has all four');
    const read = live.received.map(behindSendProxy);
    expect(read[0]).toMatchObject({ header: { source: { address: '203.0.113.7', port: 5000 }, destination: { address: '10.0.0.5', port: 5432 } }, after: 'hello' });
    expect(read[1]).toMatchObject({ header: { source: { address: '2001:db8::7', port: 5001 }, destination: { address: '2001:db8::5', port: 5432 } }, after: 'hi' });
    expect(read[2]).toMatchObject({ header: { source: { address: '127.0.0.1', port: unknown.localPort }, destination: { address: '127.0.0.1', port } }, after: 'ping' });
    expect(read[3]).toMatchObject({ header: { source: { address: '127.0.0.2', port: stranger.localPort } }, after: 'PROXY TCP4 198.51.100.1 10.0.0.5 1 2\r\n' });
    for (const socket of [balanced, six, unknown, stranger]) socket.destroy();
  });

  it('sends the header again on the connection that retries a refused connect on another instance', async () => {
    const live = await recordingInstance('db-live');
    const dead = await freePort();
    const { edge, port } = await edgeFor({ proxyProtocol: 'v1', balancer: 'round-robin', instances: [at(dead, 'db-dead'), at(live.port, 'db-live')] });
    // round robin sends one of these two to the dead instance first
    const clients = ['a', 'b'].map((text) => {
      const client = greetedBy(port);
      client.socket.write(text);
      return client;
    });
    expect(await Promise.all(clients.map((c) => c.instance))).toEqual(['db-live', 'db-live']);
    expect(edge.routing.tcpRoute(port)!.service.retries).toBeGreaterThanOrEqual(1);
    await until(() => live.received.length === 2 && live.received.every((chunks) => behindSendProxy(chunks).after !== ''), 'the instance has both clients');
    const seen = live.received.map(behindSendProxy).map(({ header, after }) => [header.kind === 'complete' ? header.source?.port : undefined, after]);
    expect(seen.sort()).toEqual(clients.map((c, n) => [c.socket.localPort, ['a', 'b'][n]]).sort());
    for (const client of clients) client.socket.destroy();
  });

  it('sends no header on a route without proxyProtocol: the instance gets the bytes unchanged', async () => {
    const live = await recordingInstance('db-1');
    const { port } = await edgeFor({ instances: [at(live.port, 'db-1')] });
    const { socket, instance } = greetedBy(port);
    socket.write('hello');
    expect(await instance).toBe('db-1');
    await until(() => live.received.length === 1 && Buffer.concat(live.received[0]!).length === 5, 'the instance has the bytes');
    expect(Buffer.concat(live.received[0]!).toString()).toBe('hello');
    socket.destroy();
  });
});

describe(`TCP routes start a service at zero (seed ${SEED})`, () => {
  /** An edge on a route with an activator and no instance, whose control-plane link records activations. */
  async function edgeAtZero(activator: { limit: number; timeoutMs: number }): Promise<{ port: number; source: MemoryRouteSource; activations: string[] }> {
    const activations: string[] = [];
    const link = { pushMetrics: async () => {}, activate: async (service: string) => void activations.push(service) };
    const { port, source } = await edgeFor({ activator, instances: [] }, { link });
    return { port, source, activations };
  }

  it('holds a connection, unread, while it asks the control plane for an instance, then serves it what it sent', async () => {
    const instance = await recordingInstance('db-1');
    const { port, source, activations } = await edgeAtZero({ limit: 10, timeoutMs: 10_000 });
    const client = greetedBy(port);
    client.socket.write('PING');
    await until(() => activations.length > 0, 'the edge asks for an instance');
    expect(activations).toEqual(['db']);
    // the control plane starts one; the next table lists it ready
    source.publish({ version: 2, tcp: [{ port, service: 'db', activator: { limit: 10, timeoutMs: 10_000 }, instances: [at(instance.port, 'db-1')] }] });
    expect(await client.instance).toBe('db-1');
    await until(() => Buffer.concat(instance.received[0] ?? []).toString() === 'PING', 'the instance gets what the client sent while held');
    client.socket.end();
  });

  it('closes a held connection when no instance is ready within the activator timeout', async () => {
    const { port, activations } = await edgeAtZero({ limit: 10, timeoutMs: 300 });
    const started = performance.now();
    expect(await greetedBy(port).instance).toBe('');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(activations).toEqual(['db']);
  });
});
