// Instances that fail through a running edge, over real sockets: one that refuses connections is
// ejected after the configured failures in a row and then not even tried, and one that closes the
// connection without answering gets the client a 502 that says so.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
// a free port is one nothing listens on: connecting to it is refused
import { freePort as refusedPort } from '../agent/port-allocator.js';
import { edgeRequest, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { OutlierPolicy } from './outlier-detection.js';
import type { RoutingMode } from './route-table.js';

const SEED = 'edge-instance-failures-int';

/** Ejects after three refusals, for longer than any test runs. */
const OUTLIER: OutlierPolicy = { consecutiveFailures: 3, baseEjectionMs: 60_000, maxEjectionMs: 60_000, maxEjectedFraction: 0.5 };

for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
  describe(`failing instances in ${mode} mode (seed ${SEED})`, () => {
    let edge: RunningEdge | undefined;
    let healthy: EchoInstance | undefined;
    let backend: net.Server | undefined;
    afterEach(async () => {
      await edge?.close();
      edge = undefined;
      await healthy?.close();
      healthy = undefined;
      if (backend !== undefined) await new Promise((resolve) => backend!.close(resolve));
      backend = undefined;
    });

    it('ejects an instance whose port refuses connections after 3 failures in a row, then sends everything to the healthy one without trying it', async () => {
      healthy = await startEchoInstance('web-1');
      const deadPort = await refusedPort();
      const source = new MemoryRouteSource({
        version: 1,
        routes: [
          {
            host: 'web.test',
            service: 'web',
            mode,
            // round robin keeps offering the dead instance until it is ejected
            balancer: 'round-robin',
            instances: [
              { id: 'dead', address: '127.0.0.1', port: deadPort, ready: true },
              { id: 'web-1', address: '127.0.0.1', port: healthy.port, ready: true },
            ],
          },
        ],
      });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, outlier: OUTLIER, log: () => {} });
      const service = edge.routing.lookup('web.test', '/')!.service;
      const dead = service.items.find((i) => i.id === 'dead')!;

      // every request is served: a refusal is retried once on the other instance
      let sent = 0;
      for (; sent < 20 && dead.outlier.ejectedUntil <= Date.now(); sent++) {
        const res = await edgeRequest(edge.port, 'web.test', `/n${sent}`);
        expect(res.status, res.body).toBe(200);
        expect((JSON.parse(res.body) as EchoAnswer).instance).toBe('web-1');
      }
      expect(dead.outlier.ejectedUntil).toBeGreaterThan(Date.now());
      expect(dead.failures).toBe(OUTLIER.consecutiveFailures);
      expect(service.retries).toBe(OUTLIER.consecutiveFailures);
      expect(healthy.served).toBe(sent);

      // ejected: no more connects to it, so no more failures and no retries
      for (let n = 0; n < 10; n++) {
        const res = await edgeRequest(edge.port, 'web.test', `/after${n}`);
        expect(res.status, res.body).toBe(200);
        expect((JSON.parse(res.body) as EchoAnswer).instance).toBe('web-1');
      }
      expect(dead.failures).toBe(OUTLIER.consecutiveFailures);
      expect(service.retries).toBe(OUTLIER.consecutiveFailures);
      expect(healthy.served).toBe(sent + 10);
      expect(service.items.find((i) => i.id === 'web-1')!.outlier.ejectedUntil).toBe(0);
    });

    it('answers 502 naming the instance when it closes the connection before answering, without sending the request twice', async () => {
      // reads the request's head, then hangs up
      let heads = 0;
      backend = net.createServer((socket) => {
        let head = '';
        socket.on('data', (chunk: Buffer) => {
          head += chunk.toString('latin1');
          if (!head.includes('\r\n\r\n')) return;
          heads++;
          socket.destroy();
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => backend!.listen(0, '127.0.0.1', resolve));
      const port = (backend.address() as net.AddressInfo).port;
      const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', mode, instances: [{ id: 'hangs-up', address: '127.0.0.1', port, ready: true }] }] });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });

      const res = await edgeRequest(edge.port, 'web.test', '/');
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body).toBe('berth edge: service web: instance hangs-up closed the connection before answering\n');
      expect(heads).toBe(1);
      const instance = edge.routing.lookup('web.test', '/')!.service.items[0]!;
      expect(instance.failures).toBe(1);
      expect(instance.inFlight).toBe(0);
    });

    // per-connection mode too: a connection pinned to a client is as much a kept-alive one as a
    // pooled connection, and the instance's keep-alive timeout can cross its next request
    it('sends a bodiless idempotent request again on a fresh connection when the instance closes a kept-alive connection as it arrives, and a POST not', async () => {
      // answers the first request on each connection and closes on the next: its keep-alive
      // timeout racing that request, made deterministic
      let connections = 0;
      backend = net.createServer((socket) => {
        connections++;
        let text = '';
        let heads = 0;
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          for (let end = text.indexOf('\r\n\r\n'); end >= 0; end = text.indexOf('\r\n\r\n')) {
            text = text.slice(end + 4);
            if (heads++ === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
            else socket.destroy();
          }
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => backend!.listen(0, '127.0.0.1', resolve));
      const port = (backend.address() as net.AddressInfo).port;
      const source = new MemoryRouteSource({ version: 1, routes: [{ host: 'web.test', service: 'web', mode, instances: [{ id: 'web-1', address: '127.0.0.1', port, ready: true }] }] });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await edgeRequest(edge.port, 'web.test', '/first', { agent });
        expect(first.status).toBe(200);
        const second = await edgeRequest(edge.port, 'web.test', '/second', { agent });
        expect([second.status, second.body]).toEqual([200, 'ok']);
        expect(connections).toBe(2);
        // the instance may have acted on a POST before it closed: the client hears so
        const post = await edgeRequest(edge.port, 'web.test', '/post', { agent, method: 'POST' });
        expect(post.status).toBe(502);
        expect(connections).toBe(2);
      } finally {
        agent.destroy();
      }
    });
  });
}
