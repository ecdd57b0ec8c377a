// The address `berth status --json` gives each HTTP service: one a client can open.
import { describe, expect, it } from 'vitest';
import type { ServiceStatusInfo } from '../api/protocol/status-protocol.js';
import { serviceUrl } from './status.js';

const edge = new URL('http://127.0.0.1:8080');
const withRoute = (route: ServiceStatusInfo['route']) => ({ route }) as ServiceStatusInfo;

describe('serviceUrl', () => {
  it('is the route host and path on the edge port', () => {
    expect(serviceUrl(withRoute({ http: { host: 'shop.localhost', path: '/cart' } }), edge)).toBe('http://shop.localhost:8080/cart');
  });

  it('names one host a wildcard route answers to, not the wildcard', () => {
    expect(serviceUrl(withRoute({ http: { host: '*.localhost', path: '/' } }), edge)).toBe('http://any.localhost:8080/');
  });

  it('names a host no other route takes exactly: an exact host wins over a wildcard', () => {
    const wildcard = withRoute({ http: { host: '*.localhost', path: '/' } });
    expect(serviceUrl(wildcard, edge, new Set(['*.localhost', 'any.localhost']))).toBe('http://any-2.localhost:8080/');
    expect(serviceUrl(wildcard, edge, new Set(['any.localhost', 'any-2.localhost', 'shop.localhost']))).toBe('http://any-3.localhost:8080/');
    // a more specific wildcard does not take the name: any.localhost is not under it
    expect(serviceUrl(wildcard, edge, new Set(['*.eu.localhost']))).toBe('http://any.localhost:8080/');
  });

  it('is null for a TCP route, a service without a route, or no known edge', () => {
    expect(serviceUrl(withRoute({ tcp: { port: 15000 } }), edge)).toBeNull();
    expect(serviceUrl(withRoute(null), edge)).toBeNull();
    expect(serviceUrl(withRoute({ http: { host: 'shop.localhost', path: '/' } }), undefined)).toBeNull();
  });
});
