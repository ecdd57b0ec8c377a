import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blackHole, edgeRequest, patternBytes, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RouteTableDocument, RoutingMode } from './route-table.js';
// a free port is one nothing listens on: connecting to it is refused
import { freePort as refusedPort } from '../agent/port-allocator.js';

const SEED = 'edge-proxy-int';

type RouteDoc = RouteTableDocument['routes'] extends (infer R)[] | undefined ? R : never;

let instances: EchoInstance[] = [];
beforeAll(async () => {
  instances = await Promise.all(['web-1', 'web-2', 'web-3'].map((id) => startEchoInstance(id)));
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.close()));
});

const entries = (list: EchoInstance[]) => list.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true }));

/** Polls a condition every 5 ms, for at most 5 s. */
export async function until(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 1_000 && !condition(); n++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met within 5 s');
}

/** The body of a GET through the edge, as bytes. */
function bytesFrom(port: number, path: string, agent: http.Agent): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host: 'web.test' }, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Sends raw bytes on one connection and collects what comes back until `done` says so. */
function rawExchange(port: number, bytes: string, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer; got ${JSON.stringify(text)}`));
    }, 5_000);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (done(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.write(bytes);
  });
}

for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
  describe(`edge in ${mode} mode (seed ${SEED})`, () => {
    let edge: RunningEdge;
    let source: MemoryRouteSource;
    let version = 1;
    const route = (extra: Partial<RouteDoc> = {}): RouteDoc => ({ host: 'web.test', service: 'web', mode, instances: entries(instances), ...extra });

    beforeAll(async () => {
      source = new MemoryRouteSource({ version: 1, routes: [route(), route({ host: 'web.test', pathPrefix: '/api', service: 'api', instances: entries(instances.slice(2)) })] });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
    });
    afterAll(async () => {
      await edge.close();
    });
    afterEach(() => {
      source.publish({ version: ++version, routes: [route(), route({ host: 'web.test', pathPrefix: '/api', service: 'api', instances: entries(instances.slice(2)) })] });
    });

    it('routes by host and longest path prefix, and answers 404 for unknown hosts', async () => {
      const web = await edgeRequest(edge.port, 'web.test', '/hello');
      expect(web.status).toBe(200);
      expect((JSON.parse(web.body) as EchoAnswer).url).toBe('/hello');
      const api = await edgeRequest(edge.port, 'web.test:8080', '/api/users?x=1');
      expect((JSON.parse(api.body) as EchoAnswer).instance).toBe('web-3');
      const missing = await edgeRequest(edge.port, 'nope.test', '/');
      expect(missing.status).toBe(404);
      expect(missing.body).toContain('no route for nope.test/');
    });

    it('adds X-Forwarded-* to every request of a keep-alive connection, replacing what the client claimed', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let n = 0; n < 3; n++) {
          const res = await edgeRequest(edge.port, 'web.test', `/n${n}`, { agent, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.9.9.9' } });
          const seen = (JSON.parse(res.body) as EchoAnswer).headers;
          expect(seen['x-forwarded-proto']).toBe('http');
          expect(seen['x-forwarded-host']).toBe('web.test');
          expect(seen['x-forwarded-for']).toBe('10.9.9.9, 127.0.0.1');
        }
      } finally {
        agent.destroy();
      }
    });

    it('carries request bodies (length and chunked) and chunked answers', async () => {
      const sized = await edgeRequest(edge.port, 'web.test', '/form', { method: 'POST', body: 'a=1&b=2' });
      expect((JSON.parse(sized.body) as EchoAnswer).body).toBe('a=1&b=2');
      const chunked = await edgeRequest(edge.port, 'web.test', '/upload?chunked', { method: 'POST', body: 'x'.repeat(100_000), headers: { 'transfer-encoding': 'chunked' } });
      expect(chunked.status).toBe(200);
      expect((JSON.parse(chunked.body) as EchoAnswer).body).toHaveLength(100_000);
      const head = await edgeRequest(edge.port, 'web.test', '/', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
    });

    it('carries a large answer intact to a client that reads slowly, while other connections read and write', async () => {
      // more than the kernel's socket buffers hold, so writes to the client have to queue
      const size = 24 * 1024 * 1024;
      // other keep-alive connections busy all along: their sockets read while the slow client's
      // queued writes still point into memory the edge read into (socket-reads.ts)
      const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
      let downloading = true;
      const others = Array.from({ length: 3 }, async () => {
        let exchanges = 0;
        while (downloading || exchanges === 0) {
          const upload = `${exchanges % 10}`.repeat(20_000);
          const answer = await edgeRequest(edge.port, 'web.test', '/other', { method: 'POST', body: upload, agent });
          expect((JSON.parse(answer.body) as EchoAnswer).body === upload).toBe(true);
          const small = await bytesFrom(edge.port, '/small?size=30000', agent);
          expect(small.equals(patternBytes(30_000))).toBe(true);
          exchanges++;
        }
        return exchanges;
      });
      const received = await new Promise<Buffer>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: edge.port, path: `/big?size=${size}`, headers: { host: 'web.test' }, agent: false }, (res) => {
          const parts: Buffer[] = [];
          let n = 0;
          res.on('data', (chunk: Buffer) => {
            parts.push(chunk);
            // stall now and then, so the edge has to queue and hold the instance back
            if (++n % 64 === 1) {
              res.pause();
              setTimeout(() => res.resume(), 20);
            }
          });
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      downloading = false;
      const exchanges = await Promise.all(others);
      agent.destroy();
      expect(received.length).toBe(size);
      expect(received.equals(patternBytes(size))).toBe(true);
      expect(Math.min(...exchanges)).toBeGreaterThan(0);
    });

    it('answers pipelined requests in order on one connection', async () => {
      const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: web.test\r\n\r\n`;
      const text = await rawExchange(edge.port, request('/p1') + request('/p2') + request('/p3'), (t) => (t.match(/HTTP\/1.1 200/g) ?? []).length === 3 && t.endsWith('}'));
      expect([...text.matchAll(/"url":"(\/p\d)"/g)].map((m) => m[1])).toEqual(['/p1', '/p2', '/p3']);
    });

    it('holds an upgrade pipelined behind a request to another service until that answer is in, then switches', async () => {
      // the upgrade must wait (the answer to /slow is outstanding) and then go to the api service
      const bytes = 'GET /slow?delay=100 HTTP/1.1\r\nHost: web.test\r\n\r\nGET /api/ws HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello';
      const text = await rawExchange(edge.port, bytes, (t) => t.includes('101 Switching') && t.endsWith('hello'));
      expect(text.indexOf('HTTP/1.1 200')).toBeLessThan(text.indexOf('HTTP/1.1 101'));
      expect(text).toContain(`X-Instance: ${instances[2]!.id}`);
    });

    it('passes a WebSocket upgrade through and pipes both ways', async () => {
      const handshake = 'GET /ws HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
      const text = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(edge.port, '127.0.0.1');
        let seen = '';
        socket.on('data', (chunk) => {
          seen += chunk.toString('latin1');
          if (seen.includes('\r\n\r\n') && !seen.includes('ping')) socket.write('ping');
          if (seen.endsWith('ping')) {
            socket.destroy();
            resolve(seen);
          }
        });
        socket.on('error', reject);
        socket.write(handshake);
      });
      expect(text.startsWith('HTTP/1.1 101')).toBe(true);
    });

    it('answers 400 to a request with two Host headers', async () => {
      const text = await rawExchange(edge.port, 'GET / HTTP/1.1\r\nHost: web.test\r\nHost: other.test\r\n\r\n', (t) => t.includes('\r\n\r\n') && t.endsWith('\n'));
      expect(text).toMatch(/^HTTP\/1.1 400 /);
      expect(text).toContain('more than one Host header');
    });

    it('passes an upgrade through on a cookie-affinity route: the 101 sets the cookie, and the bytes after it arrive', async () => {
      source.publish({ version: ++version, routes: [route({ affinity: { type: 'cookie', cookie: 'berth_affinity' } })] });
      const handshake = 'GET /ws?welcome=WELCOME HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
      const text = await rawExchange(edge.port, handshake, (t) => t.endsWith('WELCOME'));
      const [head, after] = text.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1.1 101 Switching Protocols\r\n/);
      expect(head).toMatch(/\r\nSet-Cookie: berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax(\r\n|$)/);
      expect(after).toBe('WELCOME');
    });

    it('answers 503 with Retry-After when no instance is ready, and 502 when none can be reached', async () => {
      source.publish({ version: ++version, routes: [route({ instances: [] })] });
      const none = await edgeRequest(edge.port, 'web.test', '/');
      expect(none.status).toBe(503);
      expect(none.headers['retry-after']).toBeDefined();
      expect(none.body).toContain('service web has no ready instance');
      const dead = await refusedPort();
      source.publish({ version: ++version, routes: [route({ instances: [{ id: 'dead', address: '127.0.0.1', port: dead, ready: true }] })] });
      const refused = await edgeRequest(edge.port, 'web.test', '/');
      expect(refused.status).toBe(502);
      expect(refused.body).toContain('could not connect to instance dead');
    });

    it('retries a refused connection once on another instance', async () => {
      const dead = await refusedPort();
      source.publish({ version: ++version, routes: [route({ balancer: 'round-robin', instances: [{ id: 'dead', address: '127.0.0.1', port: dead, ready: true }, ...entries(instances.slice(0, 1))] })] });
      for (let n = 0; n < 6; n++) expect((await edgeRequest(edge.port, 'web.test', '/')).status).toBe(200);
    });

    it('closes the client connection after a `Connection: close` request, keeping the one to the instance', async () => {
      source.publish({ version: ++version, routes: [route({ instances: entries(instances.slice(0, 1)) })] });
      const ports = new Set<number>();
      for (let n = 0; n < 4; n++) {
        const res = await edgeRequest(edge.port, 'web.test', '/', { headers: { connection: 'close' } });
        expect(res.headers.connection).toBe('close');
        ports.add((JSON.parse(res.body) as EchoAnswer).remotePort);
      }
      expect(ports.size).toBe(1);
    });

    it('sends each request of one connection to the route its path names', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (const path of ['/', '/api/a', '/b', '/api/c']) {
          const res = await edgeRequest(edge.port, 'web.test', path, { agent });
          expect((JSON.parse(res.body) as EchoAnswer).url).toBe(path);
          if (path.startsWith('/api')) expect((JSON.parse(res.body) as EchoAnswer).instance).toBe('web-3');
        }
      } finally {
        agent.destroy();
      }
    });

    it('sends nothing to instances that are not ready or are draining', async () => {
      const [a, b, c] = entries(instances);
      source.publish({ version: ++version, routes: [route({ instances: [{ ...a!, ready: false }, { ...b!, draining: true }, c!] })] });
      for (let n = 0; n < 10; n++) expect((JSON.parse((await edgeRequest(edge.port, 'web.test', '/')).body) as EchoAnswer).instance).toBe('web-3');
    });
  });
}

describe('per-request features', () => {
  let edge: RunningEdge;
  let source: MemoryRouteSource;
  beforeAll(async () => {
    source = new MemoryRouteSource({ version: 1, routes: [] });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
  });
  afterAll(async () => {
    await edge.close();
  });

  it('sets the affinity cookie once and keeps a client on its instance', async () => {
    source.publish({ version: 2, routes: [{ host: 'web.test', service: 'web', affinity: { type: 'cookie', cookie: 'berth_affinity' }, instances: entries(instances) }] });
    const first = await edgeRequest(edge.port, 'web.test', '/');
    const cookie = String(first.headers['set-cookie']?.[0] ?? '');
    expect(cookie).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const owner = (JSON.parse(first.body) as EchoAnswer).instance;
    for (let n = 0; n < 10; n++) {
      const next = await edgeRequest(edge.port, 'web.test', '/', { headers: { cookie: `theme=dark; ${cookie.split(';')[0]!}` } });
      expect(next.headers['set-cookie']).toBeUndefined();
      expect((JSON.parse(next.body) as EchoAnswer).instance).toBe(owner);
    }
  });

  it('lets 100 Continue through while it holds an answer to add the cookie', async () => {
    source.publish({ version: 5, routes: [{ host: 'web.test', service: 'web', affinity: { type: 'cookie', cookie: 'berth_affinity' }, instances: entries(instances) }] });
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(edge.port, '127.0.0.1');
      let seen = '';
      socket.on('data', (chunk) => {
        seen += chunk.toString('latin1');
        if (seen.startsWith('HTTP/1.1 100') && !seen.includes('hello')) socket.write('hello');
        if (seen.includes('"body":"hello"')) {
          socket.destroy();
          resolve(seen);
        }
      });
      socket.on('error', reject);
      socket.write('POST /up HTTP/1.1\r\nHost: web.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    });
    expect(text).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200 OK\r\n/);
    expect(text).toContain('Set-Cookie: berth_affinity=');
  });

  it('never exceeds a hard limit: queues, then answers 503 with Retry-After', async () => {
    source.publish({ version: 3, routes: [{ host: 'web.test', service: 'web', concurrency: { hard: 1 }, queue: { limit: 1, timeoutMs: 5_000 }, instances: entries(instances.slice(0, 1)) }] });
    const service = edge.routing.lookup('web.test', '/')!.service;
    const slow = edgeRequest(edge.port, 'web.test', '/?delay=300');
    await until(() => service.inFlight === 1);
    const queued = edgeRequest(edge.port, 'web.test', '/');
    await until(() => service.queued === 1);
    const overflow = await edgeRequest(edge.port, 'web.test', '/');
    expect(overflow.status).toBe(503);
    expect(overflow.headers['retry-after']).toBe('1');
    expect((await slow).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it('ejects an instance that keeps answering 5xx', async () => {
    source.publish({ version: 4, routes: [{ host: 'web.test', service: 'web', balancer: 'round-robin', instances: entries(instances.slice(0, 2)) }] });
    // both fail; ejection stops at half of the service, so exactly one is taken out
    const statuses: number[] = [];
    for (let n = 0; n < 30; n++) statuses.push((await edgeRequest(edge.port, 'web.test', '/?status=500')).status);
    const service = edge.routing.lookup('web.test', '/')!.service;
    expect(service.items.filter((i) => i.outlier.ejectedUntil > Date.now())).toHaveLength(1);
    expect(statuses.every((s) => s === 500)).toBe(true);
  });
});

describe('timeouts', () => {
  let edge: RunningEdge;
  beforeAll(async () => {
    const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', instances: entries(instances.slice(0, 1)) }] });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, timeouts: { requestMs: 200, idleMs: 200 }, log: () => {} });
  });
  afterAll(async () => {
    await edge.close();
  });

  it('answers 504 when the instance stays silent past the request timeout', async () => {
    const res = await edgeRequest(edge.port, 'web.test', '/?delay=5000');
    expect(res.status).toBe(504);
    expect(res.body).toContain('service web did not answer within 0.2s');
  });

  it('does not let a late answer reach the next request after a 504: the connection to the instance is closed, not pooled', async () => {
    // the sweep answers 504 within ~2 s; the instance answers at 3 s, on the connection it was asked on
    const late = await edgeRequest(edge.port, 'web.test', '/late?delay=3000');
    expect(late.status).toBe(504);
    const next = await edgeRequest(edge.port, 'web.test', '/next');
    expect(next.status).toBe(200);
    expect((JSON.parse(next.body) as EchoAnswer).url).toBe('/next');
  });

  it('keeps a quiet WebSocket open past the request and idle timeouts, and closes one quiet past the tunnel timeout', async () => {
    const handshake = 'GET /ws HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    const quietThenPing = (port: number) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let seen = '';
        socket.on('data', (chunk: Buffer) => {
          seen += chunk.toString('latin1');
          // silent both ways for 2.5 s (two sweeps past the 200 ms timeouts), then a ping
          if (seen.endsWith('\r\n\r\n')) setTimeout(() => socket.write('ping'), 2_500);
          if (seen.endsWith('ping')) socket.destroy();
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(seen));
        socket.write(handshake);
      });
    const kept = await quietThenPing(edge.port);
    expect(kept).toMatch(/^HTTP\/1.1 101 [^]*ping$/);
    const short = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source: new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', instances: entries(instances.slice(0, 1)) }] }), seed: SEED, timeouts: { tunnelMs: 300 }, log: () => {} });
    try {
      const cut = await quietThenPing(short.port);
      expect(cut).toMatch(/^HTTP\/1.1 101 /);
      expect(cut).not.toContain('ping');
    } finally {
      await short.close();
    }
  });

  it('closes a client connection left idle between requests', async () => {
    const closed = await new Promise<boolean>((resolve, reject) => {
      const socket = net.connect(edge.port, '127.0.0.1');
      const timer = setTimeout(() => resolve(false), 5_000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.on('error', reject);
      // read, or the close is never noticed
      socket.resume();
      socket.write('GET / HTTP/1.1\r\nHost: web.test\r\n\r\n');
    });
    expect(closed).toBe(true);
  });
});

describe('connect timeout', () => {
  for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
    it(`gives up on an instance that does not accept within the connect timeout and retries another (${mode})`, async () => {
      const hole = await blackHole();
      const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', mode, instances: [{ id: 'silent', address: '127.0.0.1', port: hole.port, ready: true }] }] });
      const edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, timeouts: { connectMs: 500 }, log: () => {} });
      try {
        const alone = await edgeRequest(edge.port, 'web.test', '/');
        expect(alone.status).toBe(502);
        expect(alone.body).toContain('could not connect to instance silent (no connection within 0.5s)');
        source.publish({ version: 2, routes: [{ host: 'web.test', service: 'web', mode, balancer: 'round-robin', instances: [{ id: 'silent', address: '127.0.0.1', port: hole.port, ready: true }, ...entries(instances.slice(0, 1))] }] });
        await edge.waitForVersion(2);
        for (let n = 0; n < 2; n++) expect((await edgeRequest(edge.port, 'web.test', `/n${n}`)).status).toBe(200);
      } finally {
        await edge.close();
        hole.close();
      }
    });
  }
});

it('goes on reading a client it paused for an instance that then answered early and was let go (per-request)', async () => {
  // an instance that answers an upload 413 only after it stopped reading it (the edge has had to
  // pause the client by then), and answers anything else at once
  const backend = net.createServer((socket) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('POST')) {
        socket.pause();
        setTimeout(() => socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n'), 500);
      } else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nafter');
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', mode: 'per-request', instances: [{ id: 'web-1', address: '127.0.0.1', port: (backend.address() as net.AddressInfo).port, ready: true }] }] });
  const edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
  const client = net.connect(edge.port, '127.0.0.1');
  try {
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const size = 64 * 1024 * 1024;
    client.write(`POST /upload HTTP/1.1\r\nHost: web.test\r\nContent-Length: ${size}\r\n\r\n`);
    const piece = Buffer.alloc(256 * 1024, 'x');
    for (let sent = 0; sent < size; sent += piece.length) {
      if (!client.write(piece)) await new Promise((resolve) => client.once('drain', resolve));
    }
    client.write('GET /after HTTP/1.1\r\nHost: web.test\r\n\r\n');
    await until(() => text.includes('after'));
    expect(text).toContain('413 Payload Too Large');
    expect(text).toMatch(/200 OK[\s\S]*after$/);
  } finally {
    client.destroy();
    await edge.close();
    backend.close();
  }
});

describe('a tunnel closed by one side right after its last bytes', () => {
  // an instance that switches protocols, records what arrives after the switch, and answers "bye"
  // with its last words and a close in one go
  let received = '';
  const backend = net.createServer((socket) => {
    let seen = '';
    socket.on('data', (chunk: Buffer) => {
      if (!seen.includes('\r\n\r\n')) {
        seen += chunk.toString('latin1');
        if (seen.includes('\r\n\r\n')) socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
        return;
      }
      received += chunk.toString('latin1');
      if (received.endsWith('bye')) socket.end('last words');
    });
    socket.on('error', () => {});
  });
  const handshake = 'GET /ws HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n';
  beforeAll(() => new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => backend.close(() => resolve())));

  for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
    it(`delivers them both ways (${mode})`, async () => {
      const port = (backend.address() as net.AddressInfo).port;
      const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', mode, instances: [{ id: 'web-1', address: '127.0.0.1', port, ready: true }] }] });
      const edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
      try {
        // the instance's last words, then its close
        received = '';
        const answered = await new Promise<string>((resolve, reject) => {
          const client = net.connect(edge.port, '127.0.0.1');
          let text = '';
          client.on('data', (chunk: Buffer) => {
            text += chunk.toString('latin1');
            if (text.endsWith('\r\n\r\n')) client.write('bye');
          });
          client.on('close', () => resolve(text));
          client.on('error', reject);
          client.write(handshake);
        });
        expect(answered).toMatch(/^HTTP\/1.1 101 [^]*\r\n\r\nlast words$/);
        // the client's last words, then its close
        received = '';
        const client = net.connect(edge.port, '127.0.0.1');
        client.on('data', (chunk: Buffer) => {
          if (chunk.toString('latin1').endsWith('\r\n\r\n')) client.end('so long');
        });
        client.write(handshake);
        await until(() => received === 'so long');
        client.destroy();
      } finally {
        await edge.close();
      }
    });
  }
});
