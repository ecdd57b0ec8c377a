import { describe, expect, it } from 'vitest';
import { formatDuration } from '../core/quantity.js';
import { DEFAULT_TCP_IDLE_MS, defaultMode, parseRouteTable, routeMode } from './route-table.js';

const instance = { id: 'web-1', address: '127.0.0.1', port: 3000, ready: true };

describe('route table document', () => {
  it('fills every default and normalises host and prefix', () => {
    const parsed = parseRouteTable({ version: 3, routes: [{ host: 'App.Example.com', pathPrefix: '/api/', service: 'web', instances: [instance] }] });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const route = parsed.table.routes[0]!;
    expect(route.host).toBe('app.example.com');
    expect(route.pathPrefix).toBe('/api');
    expect(route.balancer).toBe('least-outstanding');
    expect(route.concurrency).toEqual({ type: 'requests' });
    expect(route.queue).toEqual({ limit: 256, timeoutMs: 10_000 });
    expect(route.drainGraceMs).toBe(30_000);
    expect(route.instances[0]!.draining).toBe(false);
    expect(parsed.table.tcp).toEqual([]);
  });

  it('gives a TCP route the documented idle timeout of 1h unless it names one', () => {
    expect(formatDuration(DEFAULT_TCP_IDLE_MS)).toBe('1h');
    const parsed = parseRouteTable({ version: 1, tcp: [{ port: 5432, service: 'db' }, { port: 5433, service: 'mq', idleTimeoutMs: 250 }] });
    expect(parsed.ok && parsed.table.tcp.map((route) => route.idleTimeoutMs)).toEqual([3_600_000, 250]);
    // Node arms a longer timer as 1 ms: cutting at once instead of never
    expect(parseRouteTable({ version: 1, tcp: [{ port: 5432, service: 'db', idleTimeoutMs: 2 ** 31 }] })).toMatchObject({ ok: false, message: expect.stringMatching(/^tcp\.0\.idleTimeoutMs: /) as unknown as string });
  });

  it("reads a TCP route's balancer, ip affinity, limits on connections and queue", () => {
    const parsed = parseRouteTable({
      version: 1,
      tcp: [
        { port: 5432, service: 'db' },
        { port: 5433, service: 'mq', balancer: 'round-robin', affinity: { type: 'ip' }, concurrency: { soft: 2, hard: 3 }, queue: { limit: 4, timeoutMs: 500 } },
      ],
    });
    if (!parsed.ok) return expect.fail(parsed.message);
    const [db, mq] = parsed.table.tcp;
    // a TCP route counts open connections, whatever the document leaves out
    expect(db).toMatchObject({ balancer: 'least-outstanding', concurrency: { type: 'connections' }, queue: { limit: 256, timeoutMs: 10_000 } });
    expect(db).not.toHaveProperty('affinity');
    expect(mq).toMatchObject({ balancer: 'round-robin', affinity: { type: 'ip' }, concurrency: { type: 'connections', soft: 2, hard: 3 }, queue: { limit: 4, timeoutMs: 500 } });
    // a connection has no cookie to stick by
    const cookie = parseRouteTable({ version: 1, tcp: [{ port: 5432, service: 'db', affinity: { type: 'cookie', cookie: 'berth_affinity' } }] });
    expect(cookie).toMatchObject({ ok: false, message: expect.stringMatching(/^tcp\.0\.affinity\.type: /) as unknown as string });
  });

  it("reads a TCP route's proxyProtocol, v1 or v2, and a table without it sends none", () => {
    const parsed = parseRouteTable({
      version: 1,
      tcp: [
        { port: 5432, service: 'db' },
        { port: 5433, service: 'mq', proxyProtocol: 'v1' },
        { port: 5434, service: 'smtp', proxyProtocol: 'v2' },
      ],
    });
    if (!parsed.ok) return expect.fail(parsed.message);
    expect(parsed.table.tcp.map((route) => route.proxyProtocol)).toEqual([undefined, 'v1', 'v2']);
    expect(parsed.table.tcp[0]).not.toHaveProperty('proxyProtocol');
    const v3 = parseRouteTable({ version: 1, tcp: [{ port: 5432, service: 'db', proxyProtocol: 'v3' }] });
    expect(v3).toMatchObject({ ok: false, message: expect.stringMatching(/^tcp\.0\.proxyProtocol: /) as unknown as string });
  });

  it('ignores fields it does not know, so a newer control plane can add some', () => {
    expect(parseRouteTable({ version: 1, routes: [], tcp: [], regions: ['eu'] }).ok).toBe(true);
  });

  it('names the field that is wrong', () => {
    expect(parseRouteTable({ version: 1, routes: [{ host: 'a', service: 'web', instances: [{ ...instance, port: 70_000 }] }] })).toEqual({
      ok: false,
      message: expect.stringMatching(/^routes\.0\.instances\.0\.port: /) as unknown as string,
    });
    const twice = parseRouteTable({ version: 1, routes: [{ host: 'a', service: 'x' }, { host: 'a', pathPrefix: '/', service: 'y' }] });
    expect(twice).toEqual({ ok: false, message: 'routes.1: a/ is routed twice' });
    const ports = parseRouteTable({ version: 1, tcp: [{ port: 5432, service: 'a' }, { port: 5432, service: 'b' }] });
    expect(ports).toEqual({ ok: false, message: 'tcp.1.port: tcp port 5432 is routed twice' });
  });

  it('defaults to per-connection unless a feature needs every request', () => {
    const plain = { affinity: undefined, concurrency: { type: 'requests' as const } };
    expect(defaultMode(plain)).toBe('per-connection');
    expect(defaultMode({ ...plain, affinity: { type: 'ip' } })).toBe('per-connection');
    expect(defaultMode({ ...plain, concurrency: { type: 'connections', hard: 10 } })).toBe('per-connection');
    expect(defaultMode({ ...plain, affinity: { type: 'cookie', cookie: 'berth_affinity' } })).toBe('per-request');
    expect(defaultMode({ ...plain, affinity: { type: 'header', header: 'X-Tenant' } })).toBe('per-request');
    expect(defaultMode({ ...plain, concurrency: { type: 'requests', soft: 10 } })).toBe('per-request');
    const parsed = parseRouteTable({ version: 1, routes: [{ host: 'a', service: 'web', mode: 'per-request' }] });
    expect(parsed.ok && routeMode(parsed.table.routes[0]!)).toBe('per-request');
  });
});
