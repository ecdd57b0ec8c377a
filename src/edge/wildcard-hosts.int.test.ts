// Wildcard hosts over real sockets: which service answers for which Host, and what the instance
// is told the Host was.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeRequest, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RoutingMode } from './route-table.js';

const SEED = 'edge-wildcard-hosts-int';

// one instance per service, so the instance that answers names the service that was chosen
let instances: Record<'tenants' | 'eu' | 'site', EchoInstance>;
beforeAll(async () => {
  const [tenants, eu, site] = await Promise.all(['tenants-1', 'eu-1', 'site-1'].map((id) => startEchoInstance(id)));
  instances = { tenants: tenants!, eu: eu!, site: site! };
});
afterAll(async () => {
  await Promise.all(Object.values(instances).map((i) => i.close()));
});

for (const mode of ['per-connection', 'per-request'] as RoutingMode[]) {
  describe(`wildcard hosts in ${mode} mode (seed ${SEED})`, () => {
    let edge: RunningEdge;

    beforeAll(async () => {
      const route = (host: string, service: keyof typeof instances, pathPrefix = '/') => ({
        host,
        pathPrefix,
        service,
        mode,
        instances: [{ id: instances[service].id, address: '127.0.0.1', port: instances[service].port, ready: true }],
      });
      const source = new MemoryRouteSource({
        version: 1,
        routes: [route('*.example.com', 'tenants'), route('*.eu.example.com', 'eu', '/shop'), route('www.example.com', 'site')],
      });
      edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
    });
    afterAll(async () => {
      await edge.close();
    });

    /** The instance that answered, or the status when none did. */
    async function answeredBy(host: string, path = '/', agent?: http.Agent): Promise<string | number> {
      const res = await edgeRequest(edge.port, host, path, agent === undefined ? {} : { agent });
      return res.status === 200 ? (JSON.parse(res.body) as EchoAnswer).instance : res.status;
    }

    it('answers every name under *.example.com from its service, with the Host as sent in X-Forwarded-Host', async () => {
      expect(await answeredBy('acme.example.com')).toBe('tenants-1');
      expect(await answeredBy('a.b.example.com')).toBe('tenants-1');
      const res = await edgeRequest(edge.port, 'Globex.Example.com:8443', '/x');
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as EchoAnswer;
      expect(seen.instance).toBe('tenants-1');
      expect(seen.headers['x-forwarded-host']).toBe('Globex.Example.com:8443');
      expect(seen.headers.host).toBe('Globex.Example.com:8443');
    });

    it('lets an exact host win over the wildcard beside it, and does not route the apex', async () => {
      expect(await answeredBy('www.example.com')).toBe('site-1');
      expect(await answeredBy('www2.example.com')).toBe('tenants-1');
      expect(await answeredBy('x.www.example.com')).toBe('tenants-1');
      const apex = await edgeRequest(edge.port, 'example.com', '/');
      expect(apex.status).toBe(404);
      expect(apex.body).toContain('no route for example.com/');
    });

    it('lets the longest wildcard win, and answers 404 for its unrouted paths instead of passing them to a wider one', async () => {
      expect(await answeredBy('shop.eu.example.com', '/shop/cart')).toBe('eu-1');
      expect(await answeredBy('a.b.eu.example.com', '/shop')).toBe('eu-1');
      expect(await answeredBy('shop.eu.example.com', '/')).toBe(404);
      // eu.example.com itself is one label under *.example.com
      expect(await answeredBy('eu.example.com', '/shop')).toBe('tenants-1');
    });

    it('routes each request of one keep-alive connection by its own Host', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const seen = [];
        for (const host of ['a.example.com', 'www.example.com', 'b.example.com', 'x.eu.example.com']) seen.push(await answeredBy(host, '/shop', agent));
        expect(seen).toEqual(['tenants-1', 'site-1', 'tenants-1', 'eu-1']);
      } finally {
        agent.destroy();
      }
    });
  });
}
