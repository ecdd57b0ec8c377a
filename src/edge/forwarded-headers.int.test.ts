// X-Forwarded-* and Forwarded over real sockets, with a trusted proxy in front: the edge trusts
// 127.0.0.1 and not 127.0.0.2 (both loopback on Linux), so one edge sees a trusted and an
// untrusted peer.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeRequest, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RouteTableDocument, RoutingMode } from './route-table.js';

const SEED = 'edge-forwarded-int';
const PROXY = '127.0.0.1';
const STRANGER = '127.0.0.2';

let instances: EchoInstance[] = [];
beforeAll(async () => {
  instances = await Promise.all(['web-1', 'web-2'].map((id) => startEchoInstance(id)));
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.close()));
});

/** A keep-alive connection from one local address. */
const from = (localAddress: string) => new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });

async function seen(port: number, host: string, agent: http.Agent, headers: Record<string, string> = {}): Promise<http.IncomingHttpHeaders> {
  const res = await edgeRequest(port, host, '/', { agent, headers });
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as EchoAnswer).headers;
}

for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
  describe(`X-Forwarded-* with --trust-proxy ${PROXY} in ${mode} mode (seed ${SEED})`, () => {
    let edge: RunningEdge;
    let source: MemoryRouteSource;
    let version = 1;
    const table = (affinity?: { type: 'cookie'; cookie: string }): RouteTableDocument => ({
      version: version++,
      routes: [{ host: 'web.test', service: 'web', mode, ...(affinity === undefined ? {} : { affinity }), instances: instances.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true })) }],
    });

    beforeAll(async () => {
      source = new MemoryRouteSource(table());
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, trustedProxies: [`${PROXY}/32`, '10.0.0.0/8'], log: () => {} });
    });
    afterAll(async () => {
      await edge.close();
    });

    it("keeps a trusted proxy's X-Forwarded-Proto and -Host (their first values) and appends the proxy to X-Forwarded-For", async () => {
      const agent = from(PROXY);
      try {
        for (let n = 0; n < 3; n++) {
          const headers = await seen(edge.port, 'web.test', agent, { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'App.Example.com, lb.internal', 'x-forwarded-for': '203.0.113.7' });
          expect(headers['x-forwarded-proto']).toBe('https');
          expect(headers['x-forwarded-host']).toBe('App.Example.com');
          expect(headers['x-forwarded-for']).toBe(`203.0.113.7, ${PROXY}`);
          // no port named: the one the URL it claims implies (App.Example.com over https)
          expect(headers['x-forwarded-port']).toBe('443');
        }
        // the same connection, a request the proxy says nothing about: the edge's own values again
        const plain = await seen(edge.port, 'web.test:8443', agent);
        expect(plain['x-forwarded-proto']).toBe('http');
        expect(plain['x-forwarded-host']).toBe('web.test:8443');
        expect(plain['x-forwarded-port']).toBe(String(edge.port));
        const protoOnly = await seen(edge.port, 'web.test:8443', agent, { 'x-forwarded-proto': 'HTTPS' });
        expect(protoOnly['x-forwarded-proto']).toBe('https');
        expect(protoOnly['x-forwarded-host']).toBe('web.test:8443');
        expect(protoOnly['x-forwarded-port']).toBe('8443');
        const portNamed = await seen(edge.port, 'web.test', agent, { 'x-forwarded-proto': 'https', 'x-forwarded-port': '8443, 80' });
        expect(portNamed['x-forwarded-port']).toBe('8443');
      } finally {
        agent.destroy();
      }
    });

    it("passes a trusted proxy's Forwarded on with the edge's element, and believes no scheme or host in it", async () => {
      const agent = from(PROXY);
      try {
        for (let n = 0; n < 2; n++) {
          // behind nginx or HAProxy this header is the client's own: its https and host are not the proxy's word
          const headers = await seen(edge.port, 'web.test:8080', agent, { forwarded: 'for=203.0.113.7;proto=https;host="evil.example:8443"' });
          expect(headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.test:8080', 'x-forwarded-port': String(edge.port), 'x-forwarded-for': PROXY });
          expect(headers.forwarded).toBe(`for=203.0.113.7;proto=https;host="evil.example:8443", for=${PROXY}`);
        }
        // the proxy's X-Forwarded-* is its word
        const both = await seen(edge.port, 'web.test:8080', agent, { forwarded: 'for=198.51.100.1;proto=http;host=evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com' });
        expect(both).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com', 'x-forwarded-port': '443' });
        // a Forwarded that does not parse still goes on as sent, with the edge's element
        const broken = await seen(edge.port, 'web.test:8080', agent, { forwarded: 'proto="https' });
        expect(broken).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.test:8080', 'x-forwarded-port': String(edge.port), forwarded: `proto="https, for=${PROXY}` });
      } finally {
        agent.destroy();
      }
    });

    it("replaces an untrusted peer's X-Forwarded-Proto and -Host, and X-Forwarded-Host is the Host as sent, port included", async () => {
      const agent = from(STRANGER);
      try {
        for (let n = 0; n < 2; n++) {
          const headers = await seen(edge.port, 'Web.test:8080', agent, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-forwarded-for': '203.0.113.7' });
          expect(headers['x-forwarded-proto']).toBe('http');
          expect(headers['x-forwarded-host']).toBe('Web.test:8080');
          expect(headers['x-forwarded-for']).toBe(`203.0.113.7, ${STRANGER}`);
        }
      } finally {
        agent.destroy();
      }
    });

    it("drops an untrusted peer's Forwarded and replaces its X-Forwarded-Port with the edge's", async () => {
      const agent = from(STRANGER);
      try {
        for (let n = 0; n < 2; n++) {
          const headers = await seen(edge.port, 'web.test', agent, { forwarded: 'for=203.0.113.7;proto=https;host=evil.example', 'x-forwarded-port': '443' });
          expect(headers.forwarded).toBeUndefined();
          expect(headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.test', 'x-forwarded-port': String(edge.port), 'x-forwarded-for': STRANGER });
        }
        // with Connection: close (the edge drops that line too) and on a fresh connection
        const closing = await edgeRequest(edge.port, 'web.test', '/', { agent: new http.Agent({ localAddress: STRANGER }), headers: { forwarded: 'proto=https', connection: 'close' } });
        const headers = (JSON.parse(closing.body) as EchoAnswer).headers;
        expect(headers.forwarded).toBeUndefined();
        expect(headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-port': String(edge.port) });
      } finally {
        agent.destroy();
      }
    });

    it('decides the same with Connection: close', async () => {
      const claims = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com', connection: 'close' };
      const trusted = await edgeRequest(edge.port, 'web.test', '/', { agent: new http.Agent({ localAddress: PROXY }), headers: claims });
      expect(trusted.headers.connection).toBe('close');
      expect((JSON.parse(trusted.body) as EchoAnswer).headers).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com', 'x-forwarded-port': '443' });
      const untrusted = await edgeRequest(edge.port, 'web.test:8080', '/', { agent: new http.Agent({ localAddress: STRANGER }), headers: claims });
      expect((JSON.parse(untrusted.body) as EchoAnswer).headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.test:8080', 'x-forwarded-port': String(edge.port) });
      const plain = await edgeRequest(edge.port, 'web.test:8080', '/', { agent: new http.Agent({ localAddress: PROXY }), headers: { connection: 'close' } });
      expect((JSON.parse(plain.body) as EchoAnswer).headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.test:8080', 'x-forwarded-port': String(edge.port) });
    });

    it('sets the affinity cookie Secure only when a trusted proxy says https', async () => {
      source.publish(table({ type: 'cookie', cookie: 'berth_affinity' }));
      await edge.waitForVersion(version - 1);
      const cookie = async (localAddress: string, headers: Record<string, string>): Promise<string> => {
        const res = await edgeRequest(edge.port, 'web.test', '/', { agent: new http.Agent({ localAddress }), headers });
        expect(res.status).toBe(200);
        return String(res.headers['set-cookie']?.[0] ?? '');
      };
      expect(await cookie(PROXY, { 'x-forwarded-proto': 'https' })).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      expect(await cookie(PROXY, { 'x-forwarded-proto': 'http' })).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(await cookie(PROXY, {})).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(await cookie(STRANGER, { 'x-forwarded-proto': 'https' })).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
      // a Forwarded proto=https may be the client's own behind nginx or HAProxy: no Secure from it
      expect(await cookie(PROXY, { forwarded: 'for=203.0.113.7;proto=https' })).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(await cookie(STRANGER, { forwarded: 'proto=https' })).toMatch(/^berth_affinity=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    });
  });
}

describe('X-Forwarded-* without --trust-proxy', () => {
  it("replaces even a loopback peer's claims", async () => {
    const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', instances: [{ id: 'web-1', address: '127.0.0.1', port: instances[0]!.port, ready: true }] }] });
    const edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
    try {
      const headers = (JSON.parse((await edgeRequest(edge.port, 'web.test:8080', '/', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-forwarded-port': '443', forwarded: 'proto=https' } })).body) as EchoAnswer).headers;
      expect(headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.test:8080', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-port': String(edge.port) });
      expect(headers.forwarded).toBeUndefined();
    } finally {
      await edge.close();
    }
  });
});
