// The edge and a control plane over real sockets: route tables by long poll (kept through an
// outage and a restart), metrics pushed every second, activation of a service at zero.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpControlPlane } from './control-plane-link.js';
import { edgeRequest, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { FakeControlPlane } from './fake-control-plane.js';
import { PollRouteSource } from './poll-route-source.js';
import { ROUTE_TABLE_FILE } from './route-table-file.js';
import type { RouteTableDocument } from './route-table.js';

const SEED = 'edge-control-plane';
const TOKEN = 'edge-token-for-tests';

async function until(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 2_000 && !condition(); n++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met within 10 s');
}

let instances: EchoInstance[] = [];
let dataDir = '';
beforeAll(async () => {
  instances = await Promise.all(['web-1', 'web-2'].map((id) => startEchoInstance(id)));
  dataDir = await mkdtemp(join(tmpdir(), 'berth-edge-'));
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.close()));
  await rm(dataDir, { recursive: true, force: true });
});

const table = (version: number, list: EchoInstance[], extra: Partial<RouteTableDocument['routes'] extends (infer R)[] | undefined ? R : never> = {}): RouteTableDocument => ({
  version,
  routes: [{ host: 'web.test', service: 'web', instances: list.map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true })), ...extra }],
});

describe(`edge with a control plane (seed ${SEED})`, () => {
  let controlPlane: FakeControlPlane;
  let edge: RunningEdge | undefined;
  const start = async (options: { dataDir?: string } = {}) => {
    const link = new HttpControlPlane(controlPlane.url, TOKEN);
    const source = new PollRouteSource(link, { holdMs: 1_000, minBackoffMs: 20, maxBackoffMs: 100, ...options });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, metricsListen: { host: '127.0.0.1', port: 0 }, source, link, edgeId: 'edge-test', seed: SEED, metricsIntervalMs: 100, log: () => {} });
    return edge;
  };
  beforeAll(async () => {
    controlPlane = new FakeControlPlane(TOKEN, 1_000);
    await controlPlane.start();
  });
  afterEach(async () => {
    await edge?.close();
    edge = undefined;
    controlPlane.down = false;
  });
  afterAll(async () => {
    await controlPlane.stop();
  });

  it('follows the control plane by long poll, keeps routing through an outage, and restarts from disk', async () => {
    controlPlane.publish(table(10, instances.slice(0, 1)));
    const first = await start({ dataDir });
    await first.waitForVersion(10);
    expect((JSON.parse((await edgeRequest(first.port, 'web.test', '/')).body) as EchoAnswer).instance).toBe('web-1');

    controlPlane.publish(table(11, instances.slice(1)));
    await first.waitForVersion(11);
    expect((JSON.parse((await edgeRequest(first.port, 'web.test', '/')).body) as EchoAnswer).instance).toBe('web-2');
    // saved after it is applied: wait for the file to catch up
    let saved = 0;
    for (let n = 0; n < 200 && saved !== 11; n++) {
      saved = (JSON.parse(await readFile(join(dataDir, ROUTE_TABLE_FILE), 'utf8')) as { version: number }).version;
      if (saved !== 11) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(saved).toBe(11);

    controlPlane.down = true;
    for (let n = 0; n < 5; n++) expect((await edgeRequest(first.port, 'web.test', '/')).status).toBe(200);
    await first.close();

    // an edge restarted while the control plane is down routes with the saved table
    const second = await start({ dataDir });
    await second.waitForVersion(11);
    expect((JSON.parse((await edgeRequest(second.port, 'web.test', '/')).body) as EchoAnswer).instance).toBe('web-2');
    controlPlane.down = false;
    controlPlane.publish(table(12, instances));
    await second.waitForVersion(12);
  });

  it('says it holds nothing when it stops: its last report lists no service, so no drain waits on its word', async () => {
    controlPlane.publish(table(50, instances));
    const running = await start();
    await running.waitForVersion(50);
    const before = controlPlane.reports.length;
    await running.close();
    const last = controlPlane.reports.slice(before).at(-1);
    expect(last?.services).toEqual([]);
    expect(last?.edge).toBe('edge-test');
  });

  it('refuses nothing silently: a wrong token keeps the edge on its table and retrying', async () => {
    const link = new HttpControlPlane(controlPlane.url, 'wrong');
    const lines: string[] = [];
    const source = new PollRouteSource(link, { minBackoffMs: 10, maxBackoffMs: 20, log: (line) => lines.push(line) });
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
    await until(() => lines.length > 0);
    expect(lines[0]).toContain('401: the edge token was refused');
    expect((await edgeRequest(edge.port, 'web.test', '/')).status).toBe(404);
  });

  it('pushes per-service load every interval and serves Prometheus metrics', async () => {
    controlPlane.publish(table(20, instances));
    const running = await start();
    await running.waitForVersion(20);
    for (let n = 0; n < 20; n++) await edgeRequest(running.port, 'web.test', '/');
    // the fake control plane outlives each test's edge: a late report from an earlier edge (on an
    // earlier table) must not count here
    const ours = () => controlPlane.reports.filter((r) => r.routeTableVersion === 20);
    await until(() => ours().some((r) => r.services.some((s) => s.service === 'web' && s.requests > 0)));
    await until(() => ours().reduce((sum, r) => sum + (r.services.find((s) => s.service === 'web')?.requests ?? 0), 0) === 20);
    const report = ours().find((r) => r.services.some((s) => s.requests > 0))!;
    const web = report.services.find((s) => s.service === 'web')!;
    expect(report.edge).toBe('edge-test');
    expect(report.routeTableVersion).toBe(20);
    expect(web.statuses['2xx']).toBe(web.requests);
    expect(web.latencyMs?.p99).toBeGreaterThan(0);
    expect(web.instances.map((i) => i.id).sort()).toEqual(['web-1', 'web-2']);
    // each instance's own latency, for the requests it answered in the interval
    for (const instance of web.instances) {
      if (instance.requests > 0) expect(instance.latencyMs?.p99).toBeGreaterThan(0);
      else expect(instance.latencyMs).toBeNull();
    }

    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(running.metricsPort!, '127.0.0.1');
      let body = '';
      socket.on('data', (chunk) => (body += chunk.toString()));
      socket.on('end', () => resolve(body));
      socket.on('error', reject);
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(text).toMatch(/berth_edge_requests_total\{service="web",instance="web-\d",code="2xx"\} \d+/);
    // one histogram per instance; together they hold every request
    const perInstance = [...text.matchAll(/berth_edge_request_duration_seconds_count\{service="web",instance="(web-\d)"\} (\d+)/g)];
    expect(perInstance.map((m) => m[1]).sort()).toEqual(['web-1', 'web-2']);
    expect(perInstance.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(20);
    expect(text).toMatch(/berth_edge_request_duration_seconds_bucket\{service="web",instance="web-1",le="\+Inf"\} \d+/);
    expect(text).toContain('berth_edge_route_table_version 20');
  });

  it('holds requests for a service at zero, asks for an instance, and serves them once one is ready', async () => {
    controlPlane.publish(table(30, [], { activator: { limit: 10, timeoutMs: 10_000 } }));
    const running = await start();
    await running.waitForVersion(30);
    controlPlane.onActivate = (activation) => {
      // the control plane starts an instance; the next table lists it ready
      if (activation.service === 'web') setTimeout(() => controlPlane.publish(table(31, instances.slice(0, 1), { activator: { limit: 10, timeoutMs: 10_000 } })), 50);
    };
    const held = await Promise.all([edgeRequest(running.port, 'web.test', '/a'), edgeRequest(running.port, 'web.test', '/b')]);
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    expect(controlPlane.activations.filter((a) => a.service === 'web')).toHaveLength(1);
    expect(controlPlane.activations[0]!.edge).toBe('edge-test');
  });

  it('answers 503 when a service at zero does not come up in time', async () => {
    controlPlane.onActivate = () => {};
    controlPlane.publish(table(40, [], { activator: { limit: 10, timeoutMs: 100 } }));
    const running = await start();
    await running.waitForVersion(40);
    const res = await edgeRequest(running.port, 'web.test', '/');
    expect(res.status).toBe(503);
    expect(res.body).toContain('starting from zero');
  });
});
