import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { LatencyHistogram } from './latency-histogram.js';
import { parseRouteTable } from './route-table.js';
import { serviceConfig, ServiceInstances } from './service-instances.js';

const SEED = 'edge-service-instances';

function service(route: object, instances: object[], activate: (service: string, queued: number) => void = () => {}) {
  const parsed = parseRouteTable({ version: 1, routes: [{ host: 'a.test', service: 'web', mode: 'per-request', ...route, instances }] });
  if (!parsed.ok) throw new Error(parsed.message);
  const entry = parsed.table.routes[0]!;
  const result = new ServiceInstances(serviceConfig(entry), { random: seededRandom(SEED), activate });
  result.update(serviceConfig(entry), entry.instances);
  return result;
}

const ready = (id: string) => ({ id, address: '127.0.0.1', port: 3000, ready: true, draining: false });

describe('ServiceInstances', () => {
  it('never goes over a hard limit; waiters get the freed slot in order', async () => {
    const web = service({ concurrency: { hard: 1 }, queue: { limit: 2, timeoutMs: 5_000 } }, [ready('web-1')]);
    const first = web.take()!;
    expect(web.take()).toBeUndefined();
    const second = web.admit();
    const third = web.admit();
    const fourth = await web.admit();
    expect(fourth).toMatchObject({ ok: false, status: 503, retryAfter: 1 });
    web.end(first, 200, 0.001);
    const admitted = await second;
    expect(admitted).toEqual({ ok: true, instance: first });
    expect(first.inFlight).toBe(1);
    web.end(first, 200, 0.001);
    expect(await third).toEqual({ ok: true, instance: first });
  });

  it('asks for an instance when at zero, and hands it to held requests once ready', async () => {
    const asked: string[] = [];
    const web = service({ activator: { limit: 10, timeoutMs: 5_000 } }, [], (name) => asked.push(name));
    const held = web.admit();
    expect(asked).toEqual(['web']);
    expect(web.queued).toBe(1);
    web.update(web.config, [ready('web-1')]);
    const admission = await held;
    expect(admission.ok && admission.instance.id).toBe('web-1');
  });

  it('answers 503 at once for a service with no ready instance and no activator', async () => {
    const web = service({}, [{ ...ready('web-1'), ready: false }]);
    expect(await web.admit()).toMatchObject({ ok: false, message: 'service web has no ready instance' });
  });

  it('reports the time-weighted mean of requests in flight', () => {
    const web = service({}, [ready('web-1')]);
    web.takeMeanInFlight();
    const instance = web.items[0]!;
    const start = performance.now();
    web.begin(instance, start);
    web.begin(instance, start);
    web.end(instance, 200, 0, start + 50);
    web.end(instance, 200, 0, start + 100);
    // 2 for 50 ms, then 1 for 50 ms: a mean of 1.5 over those 100 ms (and 0 around them)
    expect(web.takeMeanInFlight()).toBeGreaterThan(0);
    expect(web.takeMeanInFlight()).toBe(0);
  });
});

describe('LatencyHistogram', () => {
  it('estimates quantiles within their bucket', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 99; i++) h.observe(0.003);
    h.observe(0.8);
    expect(h.quantile(0.5)).toBeGreaterThan(0.0025);
    expect(h.quantile(0.5)).toBeLessThanOrEqual(0.005);
    expect(h.quantile(1)).toBeGreaterThan(0.5);
    expect(new LatencyHistogram().quantile(0.5)).toBeUndefined();
  });
});
