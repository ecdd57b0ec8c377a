// Client-IP and header affinity through a running edge, over real sockets: a key keeps reaching
// one instance across connections, and different keys spread over the instances. Behind a
// trusted proxy, the client address is the one the proxy records (X-Forwarded-For, Forwarded).
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startEchoInstance, type EchoAnswer, type EchoInstance, type EdgeResponse } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RouteTableDocument, RoutingMode } from './route-table.js';

const SEED = 'edge-affinity-int';

type RouteDoc = RouteTableDocument['routes'] extends (infer R)[] | undefined ? R : never;

/** One request to the edge from a given local address (every 127/8 address is loopback). */
function requestFrom(port: number, path: string, options: { localAddress?: string; headers?: Record<string, string>; agent?: http.Agent } = {}): Promise<EdgeResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, localAddress: options.localAddress, headers: { host: 'web.test', ...options.headers }, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const answerOf = (res: EdgeResponse): EchoAnswer => {
  expect(res.status, res.body).toBe(200);
  return JSON.parse(res.body) as EchoAnswer;
};

describe(`affinity through the edge (seed ${SEED})`, () => {
  let edge: RunningEdge | undefined;
  let instances: EchoInstance[] = [];
  afterEach(async () => {
    await edge?.close();
    edge = undefined;
    await Promise.all(instances.map((i) => i.close()));
    instances = [];
  });

  async function start(route: Partial<RouteDoc>, trustedProxies?: string[]): Promise<RunningEdge> {
    instances = await Promise.all(['web-1', 'web-2', 'web-3'].map((id) => startEchoInstance(id)));
    const source = new MemoryRouteSource({
      version: 1,
      routes: [{ host: 'web.test', service: 'web', instances: instances.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true })), ...route }],
    });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, trustedProxies, log: () => {} });
    return edge;
  }

  for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
    it(`keeps each client address on one instance across connections, and spreads addresses (ip, ${mode})`, async () => {
      const { port, routing } = await start({ mode, affinity: { type: 'ip' } });
      expect(routing.lookup('web.test', '/')!.mode).toBe(mode);
      const addresses = Array.from({ length: 12 }, (_, n) => `127.0.0.${n + 2}`);
      const owners = new Map<string, Set<string>>(addresses.map((a) => [a, new Set()]));
      // rounds interleave the clients, so each address comes back on a new connection after others
      for (let round = 0; round < 3; round++) {
        for (const address of addresses) {
          const answer = answerOf(await requestFrom(port, `/r${round}`, { localAddress: address }));
          // the edge saw the address the test meant
          expect(answer.headers['x-forwarded-for']).toBe(address);
          owners.get(address)!.add(answer.instance);
        }
      }
      for (const [address, seen] of owners) expect([address, [...seen]]).toEqual([address, [expect.any(String)]]);
      // 12 keys hash onto all three instances (the ring is deterministic: ids and keys are fixed)
      const used = new Set([...owners.values()].map((seen) => [...seen][0]));
      expect(used.size).toBe(3);
    });
  }

  for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
    it(`pins by the client a trusted proxy names, not by the proxy, even on one kept-alive connection; an untrusted peer's names are ignored (ip, ${mode})`, async () => {
      const proxy = '127.0.0.1';
      const stranger = '127.0.0.2';
      const { port } = await start({ mode, affinity: { type: 'ip' } }, [`${proxy}/32`]);
      const clients = Array.from({ length: 12 }, (_, n) => `127.0.0.${n + 40}`);
      // where each client's address lands when it connects itself: the ring's answer for that key
      const direct = new Map<string, string>();
      for (const client of clients) direct.set(client, answerOf(await requestFrom(port, '/direct', { localAddress: client })).instance);
      expect(new Set(direct.values()).size).toBe(3);
      // through the proxy, a connection per request, as X-Forwarded-For and as Forwarded
      for (const client of clients) {
        const viaFor = answerOf(await requestFrom(port, '/xff', { localAddress: proxy, headers: { 'x-forwarded-for': `198.51.100.1, ${client}` } }));
        expect(viaFor.headers['x-forwarded-for']).toBe(`198.51.100.1, ${client}, ${proxy}`);
        expect([client, viaFor.instance]).toEqual([client, direct.get(client)]);
        const viaForwarded = answerOf(await requestFrom(port, '/forwarded', { localAddress: proxy, headers: { forwarded: `for=${client};proto=https` } }));
        expect([client, viaForwarded.instance]).toEqual([client, direct.get(client)]);
      }
      // a load balancer reuses its connections for every client: each request still reaches its client's instance
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: proxy });
      const sockets = new Set<unknown>();
      agent.on('free', (socket) => sockets.add(socket));
      try {
        for (let round = 0; round < 2; round++) {
          for (const client of clients) {
            const answer = answerOf(await requestFrom(port, `/lb${round}`, { agent, headers: { 'x-forwarded-for': client } }));
            expect([client, answer.instance]).toEqual([client, direct.get(client)]);
          }
        }
      } finally {
        agent.destroy();
      }
      expect(sockets.size).toBe(1);
      // a peer that is not trusted names any client it likes, and stays on its own address's instance
      const own = answerOf(await requestFrom(port, '/own', { localAddress: stranger })).instance;
      for (const client of clients) {
        expect(answerOf(await requestFrom(port, '/claims', { localAddress: stranger, headers: { 'x-forwarded-for': client } })).instance).toBe(own);
        expect(answerOf(await requestFrom(port, '/claims', { localAddress: stranger, headers: { forwarded: `for=${client}` } })).instance).toBe(own);
      }
      // a trusted proxy that names no client, or names it badly: the proxy's own address
      const proxyOwn = answerOf(await requestFrom(port, '/none', { localAddress: proxy })).instance;
      const elsewhere = clients.find((client) => direct.get(client) !== proxyOwn)!;
      expect(answerOf(await requestFrom(port, '/bad', { localAddress: proxy, headers: { 'x-forwarded-for': `${elsewhere}, unknown` } })).instance).toBe(proxyOwn);
      expect(answerOf(await requestFrom(port, '/bad', { localAddress: proxy, headers: { forwarded: 'for=_hidden' } })).instance).toBe(proxyOwn);
    });
  }

  it('keeps the per-connection default for ip affinity: a keep-alive connection stays on its address\'s instance', async () => {
    const { port, routing } = await start({ affinity: { type: 'ip' } });
    expect(routing.lookup('web.test', '/')!.mode).toBe('per-connection');
    const owner = answerOf(await requestFrom(port, '/first', { localAddress: '127.0.0.20' })).instance;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.20' });
    try {
      for (let n = 0; n < 5; n++) expect(answerOf(await requestFrom(port, `/k${n}`, { agent })).instance).toBe(owner);
    } finally {
      agent.destroy();
    }
  });

  it('follows the header per request, even as it changes on one keep-alive connection, and spreads values (header, default mode)', async () => {
    const { port, routing } = await start({ affinity: { type: 'header', header: 'X-Tenant' } });
    // header affinity must read every request: the default mode is per-request
    expect(routing.lookup('web.test', '/')!.mode).toBe('per-request');
    const tenants = Array.from({ length: 12 }, (_, n) => `tenant-${n}`);
    const owners = new Map<string, Set<string>>(tenants.map((t) => [t, new Set()]));
    // round 0 and 1: every tenant in turn on one keep-alive connection each; round 2: a new
    // connection per request
    const agents = [new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })];
    const sockets = new Set<unknown>();
    for (const agent of agents) agent.on('free', (socket) => sockets.add(socket));
    try {
      for (let round = 0; round < 3; round++) {
        for (const tenant of tenants) {
          const answer = answerOf(await requestFrom(port, `/r${round}`, { headers: { 'x-tenant': tenant }, agent: agents[round] }));
          expect(answer.headers['x-tenant']).toBe(tenant);
          owners.get(tenant)!.add(answer.instance);
        }
      }
    } finally {
      for (const agent of agents) agent.destroy();
    }
    // the keep-alive rounds really used one connection each
    expect(sockets.size).toBe(2);
    for (const [tenant, seen] of owners) expect([tenant, [...seen]]).toEqual([tenant, [expect.any(String)]]);
    // 12 values hash onto all three instances (deterministic, as above)
    const used = new Set([...owners.values()].map((seen) => [...seen][0]));
    expect(used.size).toBe(3);
  });
});
