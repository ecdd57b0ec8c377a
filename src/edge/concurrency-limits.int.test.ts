// Soft and hard concurrency limits through a running edge, over real sockets: soft steers work
// away from busy instances but never refuses it; hard is never exceeded, and what waits for it is
// served when an instance frees up or answered 503 with Retry-After when the queue's time is up.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeRequest, startEchoInstance, type EchoAnswer, type EchoInstance, type EdgeResponse } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RouteTableDocument } from './route-table.js';
import type { ServiceInstances } from './service-instances.js';

const SEED = 'edge-concurrency-limits-int';

type RouteDoc = RouteTableDocument['routes'] extends (infer R)[] | undefined ? R : never;

/** Polls a condition every 5 ms, for at most 2 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 400 && !condition(); n++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met within 2 s');
}

const instanceOf = (res: EdgeResponse): string => {
  expect(res.status, res.body).toBe(200);
  return (JSON.parse(res.body) as EchoAnswer).instance;
};

/** A request with the time it took to answer. */
async function timed(request: Promise<EdgeResponse>): Promise<EdgeResponse & { ms: number }> {
  const started = performance.now();
  const res = await request;
  return { ...res, ms: performance.now() - started };
}

describe(`concurrency limits through the edge (seed ${SEED})`, () => {
  let edge: RunningEdge | undefined;
  let instances: EchoInstance[] = [];
  const agents: http.Agent[] = [];
  afterEach(async () => {
    for (const agent of agents.splice(0)) agent.destroy();
    await edge?.close();
    edge = undefined;
    await Promise.all(instances.map((i) => i.close()));
    instances = [];
  });

  async function start(count: number, route: Partial<RouteDoc>): Promise<{ port: number; service: ServiceInstances }> {
    instances = await Promise.all(Array.from({ length: count }, (_, n) => startEchoInstance(`web-${n + 1}`)));
    const source = new MemoryRouteSource({
      version: 1,
      routes: [{ host: 'web.test', service: 'web', instances: instances.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true })), ...route }],
    });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
    return { port: edge.port, service: edge.routing.lookup('web.test', '/')!.service };
  }

  /** One keep-alive client connection: every request through it goes on the same socket. */
  function connection(): http.Agent {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  }

  describe('soft', () => {
    it('sends new work to the instance under soft while the other is above it, and serves it still when both are above', async () => {
      // round robin alternates whatever the load, so only the soft limit keeps work off the busy one
      const { port, service } = await start(2, { balancer: 'round-robin', concurrency: { soft: 1 } });
      const slow = edgeRequest(port, 'web.test', '/slow?delay=900');
      await until(() => service.inFlight === 1);
      const busy = service.items.find((i) => i.inFlight === 1)!.id;
      const quick: string[] = [];
      for (let n = 0; n < 4; n++) quick.push(instanceOf(await edgeRequest(port, 'web.test', `/q${n}`)));
      expect(quick.every((id) => id !== busy)).toBe(true);

      // the second concurrent request goes to the other instance...
      const second = edgeRequest(port, 'web.test', '/slow2?delay=700');
      await until(() => service.inFlight === 2);
      expect(service.items.map((i) => i.inFlight)).toEqual([1, 1]);
      // ...and with both above soft, a third is still served at once (soft is no cap)
      const third = await timed(edgeRequest(port, 'web.test', '/third'));
      expect(third.status).toBe(200);
      expect(third.ms).toBeLessThan(500);
      expect(service.queued).toBe(0);
      const both = [instanceOf(await slow), instanceOf(await second)];
      expect(both.sort()).toEqual(['web-1', 'web-2']);
      expect(service.rejected).toBe(0);
    });

    it('moves an affinity key off its instance while that one is above soft, and back once it is under', async () => {
      const { port, service } = await start(2, { affinity: { type: 'header', header: 'X-Tenant' }, concurrency: { soft: 1 } });
      const tenant = { headers: { 'x-tenant': 'acme' } };
      const owner = instanceOf(await edgeRequest(port, 'web.test', '/', tenant));
      const slow = edgeRequest(port, 'web.test', '/slow?delay=500', tenant);
      await until(() => service.inFlight === 1);
      expect(service.items.find((i) => i.inFlight === 1)!.id).toBe(owner);
      // the owner is above soft and the other is not: the key spills over
      const spilled = instanceOf(await edgeRequest(port, 'web.test', '/while-busy', tenant));
      expect(spilled).not.toBe(owner);
      expect(instanceOf(await slow)).toBe(owner);
      expect(instanceOf(await edgeRequest(port, 'web.test', '/after', tenant))).toBe(owner);
    });
  });

  describe('hard, counted in requests (per-request)', () => {
    it('answers a queued request 503 with Retry-After once the queue timeout passes, while the slow one is still in flight', async () => {
      const { port, service } = await start(1, { concurrency: { hard: 1 }, queue: { limit: 1, timeoutMs: 250 } });
      const slow = edgeRequest(port, 'web.test', '/slow?delay=900');
      await until(() => service.inFlight === 1);
      let slowDone = false;
      void slow.then(() => (slowDone = true));
      const queued = timed(edgeRequest(port, 'web.test', '/queued'));
      await until(() => service.queued === 1);
      // the queue holds one: another is turned away at once, saying so
      const full = await edgeRequest(port, 'web.test', '/full');
      expect(full.status).toBe(503);
      expect(full.headers['retry-after']).toBe('1');
      expect(full.body).toBe('berth edge: service web is at its concurrency limit and its queue is full; retry shortly\n');

      const timedOut = await queued;
      expect(timedOut.status).toBe(503);
      expect(timedOut.headers['retry-after']).toBe('1');
      expect(timedOut.body).toBe('berth edge: service web is at its concurrency limit and no instance freed up in time; retry shortly\n');
      // (timers run on a millisecond clock: allow for its rounding)
      expect(timedOut.ms).toBeGreaterThan(245);
      expect(slowDone).toBe(false);
      // the instance never saw more than the one request (it counts what it received)
      expect(instances[0]!.served).toBe(1);
      expect(instanceOf(await slow)).toBe('web-1');
      expect(service.rejected).toBe(2);
    });

    it('serves a queued request as soon as the one in flight finishes, within the queue timeout', async () => {
      const { port, service } = await start(1, { concurrency: { hard: 1 }, queue: { limit: 4, timeoutMs: 2_000 } });
      const order: string[] = [];
      const slow = edgeRequest(port, 'web.test', '/slow?delay=300').then((res) => (order.push('slow'), res));
      await until(() => service.inFlight === 1);
      const queued = timed(edgeRequest(port, 'web.test', '/queued').then((res) => (order.push('queued'), res)));
      await until(() => service.queued === 1);
      const served = await queued;
      expect(instanceOf(served)).toBe('web-1');
      expect((JSON.parse(served.body) as EchoAnswer).url).toBe('/queued');
      // it waited for the slow one, then went at once
      expect(served.ms).toBeLessThan(1_000);
      expect(instanceOf(await slow)).toBe('web-1');
      expect(order).toEqual(['slow', 'queued']);
      expect(service.rejected).toBe(0);
    });
  });

  describe('a client waiting in the queue', () => {
    /** A raw client connection that has sent `bytes`, with what it receives. */
    function rawClient(port: number, bytes: string): { socket: net.Socket; received: () => string; closed: Promise<void> } {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(bytes);
      return { socket, received: () => received, closed };
    }
    const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: web.test\r\n\r\n`;

    for (const mode of ['per-request', 'per-connection'] as const) {
      for (const hangUp of ['closes', 'resets'] as const) {
        it(`leaves the queue at once when its client ${hangUp} (${mode}): the next client gets the place, and nothing reaches the instance for it`, async () => {
          const concurrency = mode === 'per-request' ? { hard: 1 } : { type: 'connections' as const, hard: 1 };
          const { port, service } = await start(1, { mode, concurrency, queue: { limit: 1, timeoutMs: 5_000 } });
          const slow = edgeRequest(port, 'web.test', '/slow?delay=600');
          await until(() => service.items[0]!.inFlight === 1);
          const gone = rawClient(port, GET('/gone'));
          await until(() => service.queued === 1);
          if (hangUp === 'closes') gone.socket.end();
          else gone.socket.resetAndDestroy();
          await until(() => service.queued === 0);
          await gone.closed;
          expect(gone.received()).toBe('');
          // its place is free: the queue of one takes the next client, who is served in its turn
          const next = edgeRequest(port, 'web.test', '/next');
          await until(() => service.queued === 1);
          expect(instanceOf(await slow)).toBe('web-1');
          expect((JSON.parse((await next).body) as EchoAnswer).url).toBe('/next');
          expect(instances[0]!.served).toBe(2);
          // a client that left was not turned away
          expect(service.rejected).toBe(0);
        });
      }
    }

    it('leaves the wait for a start from zero when its client closes: the one behind it is served once an instance is ready', async () => {
      const instance = await startEchoInstance('web-1');
      instances = [instance];
      const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', instances: [], activator: { limit: 1, timeoutMs: 5_000 } }] });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
      const service = edge.routing.lookup('web.test', '/')!.service;
      const gone = rawClient(edge.port, GET('/gone'));
      await until(() => service.queued === 1);
      gone.socket.end();
      await until(() => service.queued === 0);
      await gone.closed;
      const next = edgeRequest(edge.port, 'web.test', '/next');
      await until(() => service.queued === 1);
      source.publish({ version: 2, routes: [{ host: 'web.test', service: 'web', instances: [{ id: instance.id, address: '127.0.0.1', port: instance.port, ready: true }], activator: { limit: 1, timeoutMs: 5_000 } }] });
      expect((JSON.parse((await next).body) as EchoAnswer).url).toBe('/next');
      expect(gone.received()).toBe('');
      expect(instance.served).toBe(1);
      expect(service.rejected).toBe(0);
    });

    it('sends what its client pipelined while it waited behind its request, in order', async () => {
      const { port, service } = await start(1, { concurrency: { hard: 1 }, queue: { limit: 4, timeoutMs: 5_000 } });
      const slow = edgeRequest(port, 'web.test', '/slow?delay=400');
      await until(() => service.items[0]!.inFlight === 1);
      const client = rawClient(port, GET('/first') + GET('/second'));
      await until(() => service.queued === 1);
      client.socket.write(GET('/third'));
      await instanceOf(await slow);
      await until(() => (client.received().match(/HTTP\/1\.1 200/g) ?? []).length === 3);
      const urls = [...client.received().matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
      expect(urls).toEqual(['/first', '/second', '/third']);
      client.socket.destroy();
    });
  });

  describe('hard, counted in connections (per-connection)', () => {
    it('holds a connection beyond hard while the others stay open: 503 once the queue timeout passes, served when one closes', async () => {
      const { port, service } = await start(2, { mode: 'per-connection', concurrency: { type: 'connections', hard: 1 }, queue: { limit: 2, timeoutMs: 300 } });
      const [a, b, c, d] = [connection(), connection(), connection(), connection()];
      const onA = instanceOf(await edgeRequest(port, 'web.test', '/a', { agent: a }));
      // hard 1 per instance: the second connection must go to the other one
      const onB = instanceOf(await edgeRequest(port, 'web.test', '/b', { agent: b }));
      expect([onA, onB].sort()).toEqual(['web-1', 'web-2']);
      expect(service.connections).toBe(2);

      // a third connection waits, gets nothing while both stay open, and is answered 503
      const refused = await timed(edgeRequest(port, 'web.test', '/c', { agent: c }));
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body).toBe('berth edge: service web is at its concurrency limit and no instance freed up in time; retry shortly\n');
      expect(refused.ms).toBeGreaterThan(295);
      // the limit is on connections, not requests: an open connection goes on being served
      expect(instanceOf(await edgeRequest(port, 'web.test', '/a2', { agent: a }))).toBe(onA);

      // a fourth waits until the first connection closes, then gets its instance
      const waiting = edgeRequest(port, 'web.test', '/d', { agent: d });
      await until(() => service.queued === 1);
      a.destroy();
      expect(instanceOf(await waiting)).toBe(onA);
      expect(service.items.map((i) => i.connections)).toEqual([1, 1]);
      expect(service.rejected).toBe(1);
    });
  });
});
