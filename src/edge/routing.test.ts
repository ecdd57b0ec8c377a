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
    const routing = new Routing({ random: seededRandom(SEED), activate: () => {} });
    routing.apply(table({ version: 1, routes: [{ host: 'a.test', service: 'web' }, { host: 'a.test', pathPrefix: '/api', service: 'api' }, { host: 'b.test', service: 'other' }] }));
    expect(routing.lookup('a.test', '/api/v1')?.service.service).toBe('api');
    expect(routing.lookup('a.test', '/apiary')?.service.service).toBe('web');
    expect(routing.lookup('b.test', '/api')?.service.service).toBe('other');
    expect(routing.lookup('c.test', '/')).toBeUndefined();
    expect(routing.version).toBe(1);
  });

  it('keeps an instance (and what it carries) across tables, and drains the ones that go', () => {
    const routing = new Routing({ random: seededRandom(SEED), activate: () => {} });
    routing.apply(table({ version: 1, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2')] }] }));
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
    const routing = new Routing({ random: seededRandom(SEED), activate: () => {} });
    routing.apply(table({ version: 1, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2', { ready: false })] }] }));
    const service = routing.lookup('a.test', '/')!.service;
    const before = service.epoch;
    routing.apply(table({ version: 2, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2', { draining: true })] }] }));
    expect(service.epoch).toBe(before);
    routing.apply(table({ version: 3, routes: [{ host: 'a.test', service: 'web', instances: [instance('web-1'), instance('web-2')] }] }));
    expect(service.epoch).toBe(before + 1);
  });
});
