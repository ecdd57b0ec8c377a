import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeRequest, startEchoInstance, type EchoAnswer, type EchoInstance } from './echo-instance.js';
import { startEdge, type RunningEdge } from './edge.js';
import { MemoryRouteSource } from './memory-route-source.js';
import type { RoutingMode } from './route-table.js';

const SEED = 'edge-draining';
const CLIENTS = 8;

/** Polls a condition every 5 ms, for at most 10 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 2_000 && !condition(); n++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met within 10 s');
}

describe.each(['per-connection', 'per-request'] as RoutingMode[])(`draining in %s mode (seed ${SEED})`, (mode) => {
  let edge: RunningEdge | undefined;
  let instances: EchoInstance[] = [];
  afterEach(async () => {
    await edge?.close();
    await Promise.all(instances.map((i) => i.close()));
  });

  it('scales 4 -> 1 under continuous load without failing a request', async () => {
    instances = await Promise.all([1, 2, 3, 4].map((n) => startEchoInstance(`web-${n}`)));
    const entry = (i: EchoInstance, draining = false) => ({ id: i.id, address: '127.0.0.1', port: i.port, ready: true, draining });
    const table = (version: number, list: ReturnType<typeof entry>[]) => ({ version, routes: [{ host: 'web.test', service: 'web', mode, drainGraceMs: 10_000, instances: list }] });
    const source = new MemoryRouteSource(table(1, instances.map((i) => entry(i))));
    edge = await startEdge({ listen: { host: '127.0.0.1', port: 0 }, source, seed: SEED, log: () => {} });
    const port = edge.port;
    const service = () => edge!.routing.lookup('web.test', '/')!.service;

    // keep-alive clients, so connections pinned to leaving instances must move between requests
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const failures: string[] = [];
    const servedBy = new Map<string, number>();
    let stop = false;
    let sent = 0;
    const client = async (): Promise<void> => {
      // bounded: stops at the flag, or after 20,000 requests whatever happens
      for (let n = 0; n < 20_000 && !stop; n++) {
        sent++;
        try {
          const res = await edgeRequest(port, 'web.test', `/?delay=${n % 3}`, { agent });
          if (res.status !== 200) failures.push(`${res.status} ${res.body}`);
          else {
            const id = (JSON.parse(res.body) as EchoAnswer).instance;
            servedBy.set(id, (servedBy.get(id) ?? 0) + 1);
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    await until(() => sent > 300);

    // the control plane marks three instances draining...
    const [keep, ...leaving] = instances as [EchoInstance, ...EchoInstance[]];
    source.publish(table(2, [entry(keep), ...leaving.map((i) => entry(i, true))]));
    // ...waits until the edge reports them drained (nothing in flight, no connection)...
    await until(() => service().items.filter((i) => i.leaving).every((i) => i.drained));
    const report = edge.metrics.report().services[0]!;
    expect(report.instances.filter((i) => i.leaving).map((i) => i.drained)).toEqual([true, true, true]);
    const servedBeforeStop = leaving.map((i) => i.served);
    // ...then removes them from the table and stops them
    source.publish(table(3, [entry(keep)]));
    await Promise.all(leaving.map((i) => i.close()));
    instances = [keep];

    const sentAtStop = sent;
    await until(() => sent > sentAtStop + 300);
    stop = true;
    await load;
    agent.destroy();

    expect(failures).toEqual([]);
    // nothing new reached the leaving instances once the edge reported them drained
    expect(leaving.map((i) => i.served)).toEqual(servedBeforeStop);
    expect(servedBy.get('web-1')).toBeGreaterThan(0);
    expect([...servedBy.keys()].sort()).toEqual(['web-1', 'web-2', 'web-3', 'web-4']);
  });
});
