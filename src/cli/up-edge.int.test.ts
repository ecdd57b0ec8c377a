// `berth up`'s in-process edge beside a `berth edge` started in the same directory, as real
// processes: `--edge-metrics-listen` serves the edge's Prometheus metrics and the summary names
// the URL; berth up keeps its edge's route table in <data>/up-edge, so a `berth edge` of another
// control plane, keeping its own in .berth/edge (its default), does not overwrite it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../agent/port-allocator.js';
import { BerthUp, bin, until } from './berth-up.fixture.js';

/** Another control plane, as far as an edge can tell: one route table, version 7, with no routes. */
function otherControlPlane(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/v1/edge/routes?after=-1')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 7, routes: [] }));
      return;
    }
    // later polls and metrics: nothing new
    setTimeout(() => res.writeHead(204).end(), 200);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

const readTable = (path: string): { version: number; routes: unknown[] } | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { version: number; routes: unknown[] };
  } catch {
    return undefined;
  }
};

describe('berth up: its edge beside berth edge in one directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-edge-'));
  const box = new BerthUp(dir);
  let edge: ChildProcess | undefined;

  beforeAll(() => box.prepare(1), 120_000);

  afterAll(async () => {
    edge?.kill('SIGTERM');
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the edge metrics on --edge-metrics-listen and keeps its route table apart from berth edge\'s', async () => {
    const metricsPort = await freePort();
    // started in `dir`, where .berth is both berth up's data directory and berth edge's default parent
    await box.start(['-f', join(box.app, 'berth.yaml'), '--edge-metrics-listen', `127.0.0.1:${metricsPort}`], dir);
    expect(box.log).toContain(`  metrics:     http://127.0.0.1:${metricsPort}/metrics`);

    await until('hello through the edge', async () => ((await box.request({ host: 'hello.localhost' })).status === 200 ? true : undefined));
    const metrics = await until('the request in the edge metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return /berth_edge_requests_total\{[^}]*service="hello"[^}]*code="2xx"[^}]*\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toContain('berth_edge_route_table_version');

    const upTable = join(box.data, 'up-edge', 'routes.json');
    await until('berth up to keep its route table in up-edge', async () => (readTable(upTable)?.routes.length ? true : undefined));

    // a berth edge of another control plane, started in the same directory with its default --data
    const other = await otherControlPlane();
    try {
      let edgeLog = '';
      edge = spawn(process.execPath, [bin, 'edge', '--control-plane', other.url, '--token', 'berth_edge_test', '--listen', `127.0.0.1:${await freePort()}`], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      edge.stderr?.on('data', (chunk: Buffer) => (edgeLog += chunk.toString()));
      const edgeTable = join(dir, '.berth', 'edge', 'routes.json');
      await until('berth edge to keep its route table', async () => (readTable(edgeTable)?.version === 7 ? true : undefined));
      expect(edgeLog).toContain(`the last table kept in ${edgeTable}`);
      // berth up's table is still its own: hello's route, not the other control plane's empty table
      expect(readTable(upTable)?.version).not.toBe(7);
      expect(JSON.stringify(readTable(upTable))).toContain('hello.localhost');
      expect((await box.request({ host: 'hello.localhost' })).status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => edge?.once('exit', resolve));
      edge?.kill('SIGTERM');
      await exited;
      await other.close();
    }
    expect(await box.stop()).toBe(0);
  });
});
