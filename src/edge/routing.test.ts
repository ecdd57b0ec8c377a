import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { parseRouteTable, type RouteTableDocument } from './route-table.js';
import { matchesPrefix, Routing } from './routing.js';

const SEED = 'edge-routing';

function table(document: RouteTableDocument) {
  const parsed = parseRouteTable(document);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.table;
}

/** A Routing with one table (version 1) of these routes in force. */
function routed(routes: RouteTableDocument['routes']): Routing {
  const routing = new Routing({ random: seededRandom(SEED), activate: () => {} });
  routing.apply(table({ version: 1, routes }));
  return routing;
}

const instance = (id: string, extra: object = {}) => ({ id, address: '127.0.0.1', port: 3000 + Number(id.slice(-1)), ready: true, ...extra });

describe('Routing', () => {
  it('matches a prefix on a path segment boundary', () => {
    expect(matchesPrefix('/api', '/api')).toBe(true);
    expect(matchesPrefix('/api/users', '/api')).toBe(true);
    expect(matchesPrefix('/api?x=1', '/api')).toBe(true);
    expect(matchesPrefix('/apix', '/api')).toBe(false);
    expect(matchesPrefix('/anything', '/')).toBe(true);
  });

  it('picks the longest prefix of the request host', () => {
    const routing = routed([{ host: 'a.test', service: 'web' }, { host: 'a.test', pathPrefix: '/api', service: 'api' }, { host: 'b.test', service: 'other' }]);
    expect(routing.lookup('a.test', '/api/v1')?.service.service).toBe('api');
    expect(routing.lookup('a.test', '/apiary')?.service.service).toBe('web');
    expect(routing.lookup('b.test', '/api')?.service.service).toBe('other');
    expect(routing.lookup('c.test', '/')).toBeUndefined();
    expect(routing.version).toBe(1);
  });

  it('routes a wildcard host for any name under it, after exact hosts and the longest wildcard first', () => {
    const routing = routed([
      { host: '*.example.com', service: 'tenants' },
      { host: '*.eu.example.com', service: 'eu' },
      { host: 'www.example.com', service: 'site' },
      { host: '*.localhost', service: 'dev' },
    ]);
    const service = (host: string) => routing.lookup(host, '/')?.service.service;
    expect(service('a.example.com')).toBe('tenants');
    expect(service('a.b.example.com')).toBe('tenants');
    expect(service('www.example.com')).toBe('site');
    expect(service('shop.eu.example.com')).toBe('eu');
    expect(service('a.shop.eu.example.com')).toBe('eu');
    // the wildcard is never its own apex, and stands for at least one character
    expect(service('eu.example.com')).toBe('tenants');
    expect(service('example.com')).toBeUndefined();
    expect(service('.example.com')).toBeUndefined();
    expect(service('a.example.org')).toBeUndefined();
    expect(service('app.localhost')).toBe('dev');
    expect(service('localhost')).toBeUndefined();
    expect(routing.lookup('a.example.com', '/')?.host).toBe('*.example.com');
  });

  it('chooses the host before the path: a path the chosen host does not route is not passed to a wider one', () => {
    const routing = routed([
      { host: '*.example.com', service: 'tenants' },
      { host: '*.example.com', pathPrefix: '/api', service: 'api' },
      { host: '*.eu.example.com', pathPrefix: '/eu', service: 'eu' },
      { host: 'www.example.com', pathPrefix: '/docs', service: 'docs' },
    ]);
    expect(routing.lookup('a.example.com', '/api/v1')?.service.service).toBe('api');
    expect(routing.lookup('a.example.com', '/apiary')?.service.service).toBe('tenants');
    expect(routing.lookup('a.eu.example.com', '/eu/x')?.service.service).toBe('eu');
    expect(routing.lookup('a.eu.example.com', '/')).toBeUndefined();
    expect(routing.lookup('www.example.com', '/docs')?.service.service).toBe('docs');
    expect(routing.lookup('www.example.com', '/')).toBeUndefined();
  });

  it('keeps reporting a wildcard-routed service with no instances (one scaled to zero) across ticks', () => {
    const routing = routed([{ host: '*.example.com', service: 'lazy' }, { host: 'www.example.com', service: 'site' }]);
    routing.tick();
    expect(routing.allServices().map((s) => s.service).sort()).toEqual(['lazy', 'site']);
    expect(routing.lookup('a.example.com', '/')?.service).toBe(routing.allServices().find((s) => s.service === 'lazy'));
  });

  it('keeps an instance (and what it carries) across tables, and drains the ones that go', () => {
    const routing = routed([{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2')] }]);
    const service = routing.lookup('a.test', '/')!.service;
    const [one, two] = service.items;
    service.begin(two!);
    routing.apply(table({ version: 2, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-3')] }] }));
    expect(routing.lookup('a.test', '/')!.service).toBe(service);
    expect(service.items[0]).toBe(one);
    // web-2 still has a request in flight: it finishes before the instance is forgotten
    expect(two!.leaving).toBe(true);
    expect(service.all()).toContain(two);
    service.end(two!, 200, 0.01);
    expect(two!.drained).toBe(true);
    expect(service.all()).not.toContain(two);
  });

  it('bumps the epoch when an instance becomes routable, so pinned connections rebalance', () => {
    const routing = routed([{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2', { ready: false })] }]);
    const service = routing.lookup('a.test', '/')!.service;
    const before = service.epoch;
    routing.apply(table({ version: 2, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2', { draining: true })] }] }));
    expect(service.epoch).toBe(before);
    routing.apply(table({ version: 3, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2')] }] }));
    expect(service.epoch).toBe(before + 1);
  });
});
